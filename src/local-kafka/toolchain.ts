import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CliError, ExitCode } from '../errors.js';

const run = promisify(execFile);

/** The major version of the `java` on PATH; a clear error naming the fix when there is none or it is too old. */
export async function requireJava(): Promise<number> {
  let text: string;
  try {
    const { stdout, stderr } = await run('java', ['-version']);
    text = stderr + stdout;
  } catch {
    throw new CliError('Java was not found: the local Kafka broker runs on Java 17 or newer.', {
      exitCode: ExitCode.environment,
      hint: 'Install a JDK (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`) or point --broker at an existing Kafka.',
    });
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) {
    throw new CliError(`Java ${major || '(unknown version)'} is too old: Kafka 4 needs Java 17 or newer.`, {
      exitCode: ExitCode.environment,
      hint: 'Install OpenJDK 17+ (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`) and put it first on PATH.',
    });
  }
  return major;
}

/** Maven fetches Kafka's jars from Maven Central. */
export async function requireMaven(): Promise<void> {
  try {
    await run('mvn', ['-v']);
  } catch {
    throw new CliError('Maven was not found: it downloads the Kafka broker jars from Maven Central.', {
      exitCode: ExitCode.environment,
      hint: 'Install Maven (Debian/Ubuntu: `apt-get install -y maven`), or point --broker at an existing Kafka.',
    });
  }
}
