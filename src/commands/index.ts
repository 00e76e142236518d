import type { Command } from 'commander';
import { register as kafka } from './kafka.js';
import { register as topic } from './topic.js';
import { register as produce } from './produce.js';
import { register as dev } from './dev.js';
import { register as demo } from './demo.js';
import { register as init } from './init.js';
import { register as validate } from './validate.js';
import { register as test } from './test.js';
import { register as completion } from './completion.js';
import { register as tenant } from './tenant.js';
import { register as deploy } from './deploy.js';
import { register as status } from './status.js';
import { register as stop } from './stop.js';
import { register as start } from './start.js';
import { register as deleteCommand } from './delete.js';
import { register as rollback } from './rollback.js';
import { register as releases } from './releases.js';
import { register as serve } from './serve.js';
import { register as logs } from './logs.js';
import { register as complete } from './complete.js';
import { register as addin } from './addin.js';
import { register as platform } from './platform.js';

/**
 * Every command, in the order `--help` lists them: a connector's life (write, check, run, deploy,
 * control), then the platform's own (serve, tenants, local Kafka and its topics), then shell
 * completion.
 * Each module loads its heavy dependencies only when run.
 */
export const commands: Array<(program: Command) => void> = [
  init, validate, test, dev, demo,
  deploy, status, releases, stop, start, rollback, deleteCommand, logs,
  serve, platform, addin, tenant, kafka, topic, produce,
  completion, complete,
];
