import { parseArgs } from 'node:util';
import { doctor } from './doctor.js';
import { fire, SCENARIOS, DEFAULT_SCENARIOS } from './fire.js';
import { oncall } from './oncall.js';
import { consoleOutput, UsageError, type Output } from './output.js';

const USAGE = `Usage: alert-triage <command> [options]

Commands:
  doctor   check the config, the store, Slack, SMTP, the rule files and the running receiver
  fire     send test Alertmanager webhooks to a running receiver (a drill)
  oncall   who is on call now and next, from the running receiver (overrides included)

All read the same environment and config as the service (TRIAGE_CONFIG, DATABASE_URL,
WEBHOOK_TOKEN, SLACK_BOT_TOKEN, SMTP_URL, PORT, ...). Run "alert-triage <command> --help" for options.`;

const DOCTOR_USAGE = `Usage: alert-triage doctor [--url URL] [--monitoring DIR]

The incident checklist's quick check: one line per check, ✓ or ✗, exit code 1 if any failed.
  --url URL          the running receiver (default http://127.0.0.1:$PORT, PORT default 9095)
  --monitoring DIR   where prometheus_rules.yml and detection_rules/ are (default ./monitoring)`;

const FIRE_USAGE = `Usage: alert-triage fire [--scenario NAME]... [--to CONTACT | --live] [--resolve] [--url URL]

Sends synthetic Alertmanager webhooks (labelled drill="true") to a running receiver, with
WEBHOOK_TOKEN from the environment. Without --scenario: one event per severity of the plan
(${DEFAULT_SCENARIOS.join(', ')}). Every title and page says [DRILL]; drills count only in
triage_drills_total. A drill pages the config's drill route, never the real one, unless told:
  --to CONTACT       page this contact id (you) instead of the drill route's people
  --live             page the real route and escalation, as for a real incident
  --scenario NAME    ${Object.keys(SCENARIOS).join(' | ')} (repeatable)
  --resolve          send the same events as resolved, to clear the drill
  --url URL          the receiver (default http://127.0.0.1:$PORT, PORT default 9095)
  --receiver NAME    the Alertmanager receiver name to claim (default alert-triage)`;

const ONCALL_USAGE = `Usage: alert-triage oncall [--team ID] [--url URL]

Who is on call now and next: the top-level rotation and every team's, or one team's. Asks the
running receiver, so overrides made at run time count; API_TOKEN from the environment.
  --team ID          one team (an id from "teams" in the config)
  --url URL          the receiver (default http://127.0.0.1:$PORT, PORT default 9095)`;

/** Runs the command line; returns the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Output = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'doctor': {
        const { values } = parseArgs({
          args: rest,
          options: { url: { type: 'string' }, monitoring: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
        });
        if (values.help) return help(io, DOCTOR_USAGE);
        return await doctor({ url: values.url, monitoringDir: values.monitoring }, env, io);
      }
      case 'fire': {
        const { values } = parseArgs({
          args: rest,
          options: {
            url: { type: 'string' },
            scenario: { type: 'string', multiple: true },
            resolve: { type: 'boolean' },
            receiver: { type: 'string' },
            to: { type: 'string' },
            live: { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
          },
        });
        if (values.help) return help(io, FIRE_USAGE);
        if (values.to && values.live) throw new UsageError('--to and --live do not go together: --live pages the real route');
        return await fire(
          {
            url: values.url,
            scenarios: values.scenario ?? [],
            resolve: values.resolve ?? false,
            receiver: values.receiver ?? 'alert-triage',
            to: values.to,
            live: values.live ?? false,
          },
          env,
          io,
        );
      }
      case 'oncall': {
        const { values } = parseArgs({
          args: rest,
          options: { url: { type: 'string' }, team: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
        });
        if (values.help) return help(io, ONCALL_USAGE);
        return await oncall({ url: values.url, team: values.team }, env, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        return help(io, USAGE);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    // parseArgs reports unknown options and missing values with this code.
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`alert-triage: ${(err as Error).message}`);
      io.err(command === 'fire' ? FIRE_USAGE : command === 'doctor' ? DOCTOR_USAGE : command === 'oncall' ? ONCALL_USAGE : USAGE);
      return 2;
    }
    io.err(`alert-triage: ${(err as Error).message}`);
    return 1;
  }
}

function help(io: Output, text: string): number {
  io.out(text);
  return 0;
}
