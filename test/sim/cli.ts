/**
 * `npm run sim -- [options]`: the Garmin Connect simulator as a standalone server, for manual runs,
 * end-to-end tests of the CLI binary and benchmarks. Its first stdout line is the URL.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { DEFAULT_USER, parseFaultSpec, SIM_ROUTES, type SimOptions, startSimulator } from './server.js'

export const HELP = `Usage: npm run sim -- [options]

A Garmin Connect simulator on 127.0.0.1 (see test/sim/README.md). Prints
"garmin-sim listening on http://127.0.0.1:<port>" as its first line; stops on SIGINT/SIGTERM.

Account
  --activities N           generated activities (default 100)
  --years Y                spread over Y years ending today (default 3)
  --seed N                 PRNG seed: same seed + same day -> same account (default 1)
  --activities-file FILE   serve this JSON array of activity-list entries instead
  --gap-days N             days within the last 30 whose daily routes answer 204 (default 3)
  --archive-after-days N   archive mode: older days answer without samples until reloaded
  --reload-cap N           reload requests answered per sim day before DENIED (default 30)
  --fit-records N          record messages per FIT original (default 30; ~0.1 ms each to encode)
User
  --user EMAIL             login email (default ${DEFAULT_USER.email})
  --password PW            login password (default "${DEFAULT_USER.password}")
  --mfa METHOD             MFA on: each sign-in sends a fresh code by email or sms (GET /__sim/inbox)
  --display-name NAME      displayName in socialProfile and wellness paths (default ${DEFAULT_USER.displayName})
  --domain DOMAIN          garmin.com (default) or garmin.cn: service URLs and the tokens' iss
  --bot-check ANSWER       refuse requests with Node fetch's fingerprint on sso: captcha or html
                             (captcha:diauth / html:diauth: on the token service too)
Tokens
  --token-ttl SECONDS      access token lifetime (default 10800)
  --token-max-calls K      every access token answers 401 after K data calls
  --reject-client-id ID    the token endpoint refuses this client id (repeatable)
Faults and timing
  --port N                 listening port (default 0: a free one)
  --latency-ms MS          added to every answer
  --latency-jitter-ms MS   plus a seeded random 0..MS
  --fault SPEC             repeatable; SPEC is ROUTE:KIND[:ARG][:times=K][:p=P]
                             ROUTE: * or ${SIM_ROUTES.join(', ')}
                             KIND:  429 500 502 503 403 401 404 (ARG for 429: Retry-After seconds),
                                    reset, html, malformed, truncated, captcha, rateLimitBody,
                                    latency (ARG: ms; option jitter=MS)
                             e.g. activityList:503:times=3  login:429:60  download:reset:p=0.1
  --verbose                one stderr line per request (method, path, status, ms)
  -h, --help

Control routes (not counted): GET /__sim/stats, POST /__sim/reset, GET|POST /__sim/faults
({"route","fault",...} or {"clear":true}), GET|POST /__sim/activities ({"count":N}),
POST /__sim/tokens ({"revokeRefreshTokens":true} | {"expireAccessTokensAfter":K}),
GET|POST /__sim/clock ({"advanceMs":N}), GET /__sim/gaps, GET /__sim/inbox (the MFA codes sent).
`

export interface CliConfig {
  help: boolean
  port: number
  options: SimOptions
  faults: ReturnType<typeof parseFaultSpec>[]
  verbose: boolean
}

function int(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < min) throw new Error(`--${name} must be an integer >= ${min}`)
  return Number(value)
}

function oneOf<T extends string>(value: string, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`--${name} must be one of ${allowed.join(', ')}`)
  return value as T
}

export function parseCli(argv: string[]): CliConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      activities: { type: 'string' },
      years: { type: 'string' },
      seed: { type: 'string' },
      'activities-file': { type: 'string' },
      'gap-days': { type: 'string' },
      'archive-after-days': { type: 'string' },
      'reload-cap': { type: 'string' },
      'fit-records': { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      mfa: { type: 'string' },
      domain: { type: 'string' },
      'bot-check': { type: 'string' },
      'display-name': { type: 'string' },
      'token-ttl': { type: 'string' },
      'token-max-calls': { type: 'string' },
      'reject-client-id': { type: 'string', multiple: true },
      'latency-ms': { type: 'string' },
      'latency-jitter-ms': { type: 'string' },
      fault: { type: 'string', multiple: true },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const options: SimOptions = {}
  const set = <K extends keyof SimOptions>(key: K, value: SimOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value
  }
  set('activities', int(values.activities, 'activities'))
  set('years', int(values.years, 'years', 1))
  set('seed', int(values.seed, 'seed'))
  set('activitiesFile', values['activities-file'])
  set('gapDays', int(values['gap-days'], 'gap-days'))
  set('archiveAfterDays', int(values['archive-after-days'], 'archive-after-days'))
  set('reloadCap', int(values['reload-cap'], 'reload-cap'))
  set('fitRecords', int(values['fit-records'], 'fit-records', 2))
  set('accessTokenTtlSeconds', int(values['token-ttl'], 'token-ttl', 1))
  set('accessTokenMaxCalls', int(values['token-max-calls'], 'token-max-calls'))
  set('rejectedClientIds', values['reject-client-id'])
  set('latencyMs', int(values['latency-ms'], 'latency-ms'))
  set('latencyJitterMs', int(values['latency-jitter-ms'], 'latency-jitter-ms'))
  if (values.user || values.password || values.mfa || values['display-name']) {
    options.user = {
      email: values.user ?? DEFAULT_USER.email,
      password: values.password ?? DEFAULT_USER.password,
      ...(values.mfa === undefined ? {} : { mfa: oneOf(values.mfa, 'mfa', ['email', 'sms'] as const) }),
      displayName: values['display-name'] ?? DEFAULT_USER.displayName,
    }
  }
  if (values.domain !== undefined)
    options.domain = oneOf(values.domain, 'domain', ['garmin.com', 'garmin.cn'] as const)
  if (values['bot-check'] !== undefined) {
    const [answer = '', where] = values['bot-check'].split(':')
    if (where !== undefined && where !== 'diauth') throw new Error('--bot-check takes captcha|html[:diauth]')
    options.botCheck = {
      answer: oneOf(answer, 'bot-check', ['captcha', 'html'] as const),
      diauth: where === 'diauth',
    }
  }
  return {
    help: values.help === true,
    port: int(values.port, 'port') ?? 0,
    options,
    faults: (values.fault ?? []).map(parseFaultSpec),
    verbose: values.verbose === true,
  }
}

async function main(): Promise<void> {
  let config: CliConfig
  try {
    config = parseCli(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`garmin-sim: ${(error as Error).message}\nTry --help.\n`)
    process.exit(2)
  }
  if (config.help) {
    process.stdout.write(HELP)
    return
  }
  const sim = await startSimulator({
    ...config.options,
    port: config.port,
    ...(config.verbose
      ? {
          onRequest: (e) =>
            process.stderr.write(`${e.method} ${e.path} ${e.route ?? '-'} ${e.status} ${e.ms}ms\n`),
        }
      : {}),
  })
  for (const rule of config.faults) sim.addFault(rule)
  process.stdout.write(`garmin-sim listening on ${sim.url}\n`)
  process.stdout.write(`per-host listeners: GARMIN_S3_GARMIN_URL=${sim.garminUrl}\n`)
  const mfa = sim.user.mfa === undefined ? '' : `, MFA by ${sim.user.mfa}`
  process.stdout.write(
    `account: ${sim.listAll().length} activities; user ${sim.user.email} (displayName ${sim.user.displayName}${mfa})\n`,
  )
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`garmin-sim: ${(error as Error).message}\n`)
    process.exit(1)
  })
}
