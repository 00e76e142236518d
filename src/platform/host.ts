// The platform host: one DNS name under which the directory, the console, the add-in and every
// app are reached (https://<host>/, /addin/, /apps/<tenant>/<app>/).
import { CliError, ExitCode } from '../errors.js';

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

export function checkHost(value: string): string {
  if (DNS_NAME.test(value)) return value;
  const why = /^[a-z]+:\/\//i.test(value) ? 'it names a scheme; give the host alone'
    : value.includes('/') ? 'it holds a path'
    : value.includes(':') ? 'it holds a port (the Gateway serves HTTPS on 443)'
    : value !== value.toLowerCase() ? 'it holds capital letters'
    : 'it is not a DNS name with a dot (lowercase letters, digits, \'-\' and \'.\')';
  throw new CliError(`--host '${value}' is not a platform host name: ${why}.`, {
    exitCode: ExitCode.usage,
    hint: 'Give the DNS name Excel users reach the platform at, e.g. --host aerogrid.example.com',
  });
}
