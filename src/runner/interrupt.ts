import { ExitCode } from '../errors.js';

/** Waits until Ctrl-C (or SIGTERM), then runs stop(); a second Ctrl-C exits at once. */
export async function runUntilInterrupted(running: { stop(): Promise<void>; done: Promise<void> }, extraStop?: () => Promise<void>): Promise<void> {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(ExitCode.interrupted);
    interrupted = true;
    process.stderr.write('\nStopping...\n');
    void (async () => {
      await extraStop?.();
      await running.stop();
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await running.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (!interrupted) process.exitCode = ExitCode.failure;
}
