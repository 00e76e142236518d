// Broker addresses, parsed without loading the Kafka client (the CLI checks --broker with it).

/** Parses `host:port[,host:port...]` (also with `kafka://`) into a broker list. */
export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim().replace(/^kafka:\/\//, '').replace(/\/$/, ''))
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new Error('no Kafka broker given: expected HOST:PORT');
  for (const b of brokers) {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new Error(`invalid Kafka broker ${JSON.stringify(b)}: expected HOST:PORT`);
    }
  }
  return brokers;
}
