/**
 * Secrets: a representative session of the built CLI — login, sync into S3 and into a folder (with a
 * token refresh mid-run), status, deploy --dry-run, and a sync that fails on a revoked session — must
 * never print, log or store a password, access token or refresh token the simulator handed out. Token
 * files are private (0600 in a 0700 folder). The IAM policies deploy and init write grant no `*`
 * action and no `*` resource (CloudWatch Logs, through the AWS-managed basic execution role, aside).
 */
import { readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  executionPolicy,
  lambdaTrustPolicy,
  type PolicyDocument,
  schedulerInvokePolicy,
  schedulerTrustPolicy,
} from '../../src/deploy/policy.js'
import { githubRolePolicy, githubTrustPolicy } from '../../src/github/role.js'
import { DirStore, S3Store } from '../../src/store/index.js'
import type { Store } from '../../src/store/types.js'
import { DATASET_NAMES, datasetPrefixes } from '../../src/sync/index.js'
import { assertBuilt, type CliResult, cliEnv, runCli, tempDir } from '../e2e/sync-helpers.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { LONG, recordFigure } from './figures.js'

let home: { path: string; remove: () => Promise<void> }
let sim: Simulator

beforeAll(async () => {
  assertBuilt()
  home = await tempDir('secrets')
  sim = await startSimulator({ activities: 25, seed: 77, years: 1 })
})
afterAll(async () => {
  await sim?.close()
  await home?.remove()
})

async function storedText(store: Store): Promise<string[]> {
  const out: string[] = []
  for await (const o of store.list('')) {
    const object = await store.get(o.key)
    if (object) out.push(`${o.key}\n${Buffer.from(object.body).toString('latin1')}`)
  }
  return out
}

describe('secrets', () => {
  it('no password or token in any output, log, manifest, state or stored object; token files are private', {
    timeout: 120_000,
  }, async () => {
    const tokens = join(home.path, 'config', 'garmin-s3', 'tokens.json')
    const endpoint = inject('motoEndpoint')
    const s3 = testS3Client(endpoint)
    const bucket = await createTestBucket(s3, 'secrets')
    const out = join(home.path, 'out')
    const env = cliEnv(sim, tokens, home.path)
    const s3Args = ['--bucket', bucket, '--endpoint', endpoint, '--path-style']
    const outputs: CliResult[] = []
    const run = async (args: string[], extra: NodeJS.ProcessEnv = {}, code = 0) => {
      const result = await runCli(args, { env: { ...env, ...extra } })
      outputs.push(result)
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(code)
      return result
    }

    await run(['login'], { GARMIN_EMAIL: sim.user.email, GARMIN_PASSWORD: sim.user.password })
    // Two data calls per access token: the syncs below refresh (and rotate) the tokens mid-run.
    sim.expireAccessTokensAfter(2)
    await run(['sync', ...s3Args, '--json'])
    await run(['sync', '--out', out, '--data', 'fit,sleep', '--days-back', '20'])
    const aws = { AWS_ENDPOINT_URL: endpoint }
    await Promise.all([
      run(['status', ...s3Args]),
      run(['deploy', '--bucket', bucket, '--name', 'secrets', '--dry-run'], aws),
      // The --json forms print the same facts as objects; the long run checks them too.
      ...(LONG
        ? [
            run(['status', ...s3Args, '--json']),
            run(['deploy', '--bucket', bucket, '--name', 'secrets', '--dry-run', '--json'], aws),
          ]
        : []),
    ])
    // A failing run prints its error: still no token in it.
    sim.expireAccessTokensAfter(0)
    sim.revokeRefreshTokens()
    await run(['sync', '--out', out], {}, 3)

    const tokenFile = await readFile(tokens, 'utf8')
    const secrets = sim.secrets()
    expect(secrets.length).toBeGreaterThan(3)
    // The secrets are the ones in play: the token file holds some of them.
    expect(secrets.some((s) => tokenFile.includes(s))).toBe(true)
    expect(secrets).toContain(sim.user.password)

    const haystacks = [
      ...outputs.flatMap((r) => [r.stdout, r.stderr]),
      ...(await storedText(new S3Store({ bucket, client: s3 }))),
      ...(await storedText(new DirStore(out, { durable: false }))),
    ]
    const leaks = secrets.filter((s) => haystacks.some((h) => h.includes(s)))
    expect(leaks.map((s) => `${s.slice(0, 4)}…`)).toEqual([])
    recordFigure('secrets checked', secrets.length)
    recordFigure('outputs scanned', haystacks.length)

    expect((await stat(tokens)).mode & 0o777).toBe(0o600)
    expect((await stat(dirname(tokens))).mode & 0o777).toBe(0o700)
  })

  it('the IAM policies of deploy and init grant no * action and no * resource outside CloudWatch Logs', () => {
    const account = { partition: 'aws', accountId: '123456789012', region: 'eu-west-1' }
    const prefix = 'raw-data/garmin-json/'
    const parameterArn = 'arn:aws:ssm:eu-west-1:123456789012:parameter/garmin-s3/x/tokens'
    const documents: Array<[string, PolicyDocument]> = [
      ['lambda trust', lambdaTrustPolicy()],
      [
        'execution',
        executionPolicy({
          partition: 'aws',
          bucket: 'lake',
          prefix,
          controlPrefix: 'raw-data/_garmin-s3/',
          datasetPrefixes: datasetPrefixes(prefix, DATASET_NAMES),
          parameterArn,
        }),
      ],
      ['scheduler trust', schedulerTrustPolicy(account.accountId)],
      ['scheduler invoke', schedulerInvokePolicy('arn:aws:lambda:eu-west-1:123456789012:function:garmin-s3')],
      [
        'github role',
        githubRolePolicy(
          {
            name: 'garmin-s3',
            bucket: 'lake',
            prefix,
            controlPrefix: 'raw-data/_garmin-s3/',
            repo: { owner: 'me', name: 'lake' },
            branch: 'main',
          },
          account,
        ),
      ],
      [
        'github trust',
        githubTrustPolicy(
          'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
          'repo:me/lake:ref:refs/heads/main',
        ),
      ],
    ]
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v])
    for (const [name, doc] of documents) {
      for (const st of doc.Statement) {
        const actions = list(st.Action)
        expect(actions.length, name).toBeGreaterThan(0)
        for (const action of actions) expect(action, name).not.toMatch(/^\*$|:\*$/)
        const logsOnly = actions.every((a) => a.startsWith('logs:'))
        if (!logsOnly) for (const resource of list(st.Resource)) expect(resource, name).not.toBe('*')
        if (st.Resource !== undefined) expect(list(st.Resource).length, name).toBeGreaterThan(0)
      }
    }
    recordFigure(
      'IAM statements checked',
      documents.reduce((n, [, d]) => n + d.Statement.length, 0),
    )
  })
})
