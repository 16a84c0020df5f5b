// Guard for a @platformatic/kafka 1.35 crash under broker failure: right after a broker dies,
// a metadata response can name it as a partition leader while leaving it out of the broker
// list; the client then calls ConnectionPool.get(undefined) and throws a TypeError from a
// callback (uncaught: the whole process dies). Turn that into the retriable, stale-metadata
// error the broker itself would send (LEADER_NOT_AVAILABLE), so the client refreshes metadata
// and retries. Idempotent; imported for its side effect.
import { ConnectionPool, ProtocolError } from '@platformatic/kafka';

type Get = (broker: unknown, cb: (e: Error | null, c?: unknown) => void) => void;
const proto = ConnectionPool.prototype as unknown as { get: Get; __fbGuarded?: boolean };
if (!proto.__fbGuarded) {
  const original = proto.get;
  proto.get = function guardedGet(this: unknown, broker, cb) {
    if (!broker) {
      cb(new ProtocolError('LEADER_NOT_AVAILABLE'));
      return;
    }
    original.call(this, broker, cb);
  };
  proto.__fbGuarded = true;
}
