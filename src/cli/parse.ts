import { InvalidArgumentError } from 'commander';

/** A TCP port for commander options; 0 (any free port) only where the caller allows it. */
export function portParser(options: { allowZero?: boolean; max?: number } = {}): (value: string) => number {
  const min = options.allowZero ? 0 : 1;
  const max = options.max ?? 65535;
  return (value) => {
    const port = Number(value);
    if (!/^\d+$/.test(value) || port < min || port > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return port;
  };
}
