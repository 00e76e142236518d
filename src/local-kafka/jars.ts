import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CliError, ExitCode } from '../errors.js';
import { aerogridHome } from '../paths.js';
import { requireMaven } from './toolchain.js';

const run = promisify(execFile);

/** The Apache Kafka release the embedded broker runs (KRaft, Scala 2.13 build). */
export const KAFKA_VERSION = '4.1.1';

/** Kafka 4 logs through SLF4J 2 → Log4j 2; the broker's own POM leaves the binding to us. */
function pom(version: string): string {
  const dep = (g: string, a: string, v: string) =>
    `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.aerogrid</groupId>
  <artifactId>local-kafka</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
    ${dep('org.apache.kafka', 'kafka_2.13', version)}
    ${dep('org.slf4j', 'slf4j-api', '2.0.17')}
    ${dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', '2.24.3')}
    ${dep('org.apache.logging.log4j', 'log4j-core', '2.24.3')}
  </dependencies>
</project>
`;
}

export function kafkaLibDir(version = KAFKA_VERSION): string {
  return join(aerogridHome(), 'kafka', version, 'libs');
}

/** Downloads the broker's jars once (through Maven, from Maven Central) and returns their folder. */
export async function ensureKafkaJars(version = KAFKA_VERSION): Promise<string> {
  const libs = kafkaLibDir(version);
  const done = join(libs, '.complete');
  if (existsSync(done)) return libs;
  await requireMaven();
  const home = join(aerogridHome(), 'kafka', version);
  await mkdir(home, { recursive: true });
  await rm(libs, { recursive: true, force: true });
  await writeFile(join(home, 'pom.xml'), pom(version));
  try {
    await run('mvn', ['-q', '-B', '-f', join(home, 'pom.xml'), 'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const output = error instanceof Error && 'stdout' in error ? String((error as { stdout: unknown }).stdout).slice(-2000) : String(error);
    throw new CliError(`Could not download Apache Kafka ${version} from Maven Central:\n${output}`, {
      exitCode: ExitCode.environment,
      hint: 'Check that Maven Central is reachable (or configure a mirror in ~/.m2/settings.xml), then run `aerogrid kafka up` again.',
    });
  }
  const jars = (await readdir(libs)).filter((f) => f.endsWith('.jar'));
  if (!jars.some((f) => f.startsWith('kafka_2.13-'))) {
    throw new CliError(`Maven finished but no Kafka broker jar is in ${libs}.`, { exitCode: ExitCode.environment });
  }
  await writeFile(done, new Date().toISOString() + '\n');
  return libs;
}
