// Errors of broker processes a user can hit (not running, ports taken, jars missing): the
// message is one line and names the fix. brokers/kafka/cluster.ts has its own class of the same
// name; the CLI tells both apart from other failures by `name === 'BrokerError'`.
export class BrokerError extends Error {
  override name = 'BrokerError';
}
