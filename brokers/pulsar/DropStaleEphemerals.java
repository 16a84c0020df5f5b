// Removes the ephemeral entries a killed Pulsar standalone left in its RocksDB metadata store
// (brokers/pulsar/standalone.ts runs it before starting on an existing data dir). ZooKeeper
// expires a dead process's ephemeral nodes with its session; the RocksDB store of Pulsar 4.0.7
// keeps them on disk and only hides them from reads. After a kill -9, the restarted bookie's
// registration (/ledgers/available/<bookie>) then flaps between created and deleted without end,
// the broker sees no writable bookie, and every new ledger fails ("Not enough bookies").
// After a clean shutdown there is nothing to remove. Run with the Pulsar jars on the class path:
//   java -cp '<libs>/*' DropStaleEphemerals.java <data>/metadata
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.TransactionDB;
import org.rocksdb.TransactionDBOptions;

public class DropStaleEphemerals {
  // RocksdbMetadataStore.MetaValue: int headerSize, int formatVersion, long version, long owner,
  // long createdTimestamp, long modifiedTimestamp, byte ephemeral, then the data.
  private static final int HEADER_SIZE = 4 + 4 + 8 + 8 + 8 + 8 + 1;

  public static void main(String[] args) throws Exception {
    RocksDB.loadLibrary();
    int dropped = 0;
    try (Options options = new Options().setCreateIfMissing(false);
         TransactionDBOptions txOptions = new TransactionDBOptions();
         TransactionDB db = TransactionDB.open(options, txOptions, args[0]);
         RocksIterator it = db.newIterator()) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] v = it.value();
        if (v.length < HEADER_SIZE) continue; // the store's own counters (8-byte longs)
        ByteBuffer b = ByteBuffer.wrap(v);
        if (b.getInt() != HEADER_SIZE || b.getInt() != 1) continue;
        if (v[HEADER_SIZE - 1] == 0) continue;
        System.out.println("dropping stale ephemeral " + new String(it.key(), StandardCharsets.UTF_8));
        db.delete(it.key());
        dropped++;
      }
    }
    System.out.println("dropped " + dropped + " stale ephemeral entries");
  }
}
