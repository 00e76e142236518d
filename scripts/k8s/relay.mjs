#!/usr/bin/env node
// A byte relay between a TCP address and a Unix socket, for the API server inside the control
// plane's network namespace: the socket file is shared between namespaces, TCP is not.
//   relay.mjs unix-to-tcp <socket> <host:port>   (inside: the socket leads to the API server)
//   relay.mjs tcp-to-unix <host:port> <socket> <portfile>  (outside: 127.0.0.1, any free port)
import net from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';

const [mode, from, to, portFile] = process.argv.slice(2);
const hostPort = (s) => { const i = s.lastIndexOf(':'); return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }; };
const pipe = (client, connect) => {
  const upstream = connect();
  client.pipe(upstream).pipe(client);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end); upstream.on('error', end);
};

if (mode === 'unix-to-tcp') {
  rmSync(from, { force: true });
  const target = hostPort(to);
  net.createServer((c) => pipe(c, () => net.connect(target))).listen(from);
} else if (mode === 'tcp-to-unix') {
  const { host, port } = hostPort(from);
  const server = net.createServer((c) => pipe(c, () => net.connect(to)));
  server.listen(port, host, () => writeFileSync(portFile, String(server.address().port)));
} else {
  console.error('usage: relay.mjs unix-to-tcp <socket> <host:port> | tcp-to-unix <host:port> <socket> <portfile>');
  process.exit(2);
}
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
