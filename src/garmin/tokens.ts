/**
 * Where Garmin tokens live between runs: a private file on the user's machine, or an SSM SecureString
 * parameter for Lambda and CI. Both replace the whole value at once, so a run killed mid-write leaves
 * either the old or the new tokens, never half of each.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, lstat, mkdir, open, rename, unlink } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { awsErrorName, isNoRegion, noRegionError } from '../aws/errors.js'
import { type GarminS3Error, UsageError } from '../errors.js'
import { TokenStoreError } from './errors.js'
import { validateStoredTokens } from './token-format.js'
import type { StoredTokens, TokenStore } from './types.js'

/** `$XDG_CONFIG_HOME/garmin-s3/tokens.json`, else `~/.config/garmin-s3/tokens.json`. */
export function defaultTokenPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config')
  return join(base, 'garmin-s3', 'tokens.json')
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code
}

export class FileTokenStore implements TokenStore {
  readonly path: string
  readonly location: string

  constructor(path?: string) {
    this.path = resolve(path ?? defaultTokenPath())
    this.location = this.path
  }

  async load(): Promise<StoredTokens | undefined> {
    await this.refuseSymlinkedDirectory()
    let handle: Awaited<ReturnType<typeof open>>
    try {
      // O_NOFOLLOW: a symlink planted at the token path is refused by the kernel, not after the fact.
      handle = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined
      if (isErrno(error, 'ELOOP')) throw this.symlinkError(this.path)
      throw new TokenStoreError(`Cannot read the token file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    try {
      const info = await handle.stat()
      if (!info.isFile()) throw new TokenStoreError(`The token path ${this.path} is not a regular file.`)
      if ((info.mode & 0o077) !== 0) {
        throw new TokenStoreError(
          `The token file ${this.path} can be read by other users (mode ${(info.mode & 0o777).toString(8)}).`,
          { hint: `Run \`chmod 600 ${this.path}\`, then run garmin-s3 again.` },
        )
      }
      const text = await handle.readFile({ encoding: 'utf8' })
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        throw new TokenStoreError(`The token file ${this.path} is not valid JSON.`, {
          hint: 'Run `garmin-s3 login` to replace it.',
        })
      }
      return validateStoredTokens(value, this.path)
    } finally {
      await handle.close()
    }
  }

  async save(tokens: StoredTokens): Promise<void> {
    const dir = dirname(this.path)
    try {
      const created = await mkdir(dir, { recursive: true, mode: 0o700 })
      // mkdir's mode is filtered by the umask; make sure what we created is private.
      if (created !== undefined) await chmod(dir, 0o700)
    } catch (error) {
      throw new TokenStoreError(
        `Cannot create the folder ${dir} for the token file: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    }
    await this.refuseSymlinkedDirectory()
    await this.refuseSymlinkAtPath()
    const temp = join(dir, `.tokens.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
    try {
      const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
      try {
        await handle.writeFile(`${JSON.stringify(tokens, null, 2)}\n`, 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, this.path)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw new TokenStoreError(`Cannot write the token file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    await syncDirectory(dir)
  }

  async clear(): Promise<boolean> {
    try {
      await unlink(this.path)
      return true
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false
      throw new TokenStoreError(`Cannot delete the token file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }

  private async refuseSymlinkAtPath(): Promise<void> {
    try {
      if ((await lstat(this.path)).isSymbolicLink()) throw this.symlinkError(this.path)
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error
    }
  }

  /** The folder holding the tokens must not be a symlink either (it could be redirected elsewhere). */
  private async refuseSymlinkedDirectory(): Promise<void> {
    const dir = dirname(this.path)
    try {
      if ((await lstat(dir)).isSymbolicLink()) throw this.symlinkError(dir)
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error
    }
  }

  private symlinkError(path: string): TokenStoreError {
    return new TokenStoreError(`Refusing to use ${path}: it is a symbolic link.`, {
      hint: 'Point --token-store (or GARMIN_S3_TOKEN_STORE) at a real file in a private folder.',
    })
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse fsync on a directory, which is harmless.
  try {
    const handle = await open(dir, constants.O_RDONLY)
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // best effort
  }
}

const SSM_NAME = /^[a-zA-Z0-9_.\-/]{1,1011}$/

type SsmSdk = typeof import('@aws-sdk/client-ssm')
let ssmSdk: Promise<SsmSdk> | undefined
/** The SSM SDK, loaded on first use: a run with a token file never pays for it (~0.2 s per start). */
const loadSsmSdk = () => (ssmSdk ??= import('@aws-sdk/client-ssm'))

function isParameterNotFound(sdk: SsmSdk, error: unknown): boolean {
  return error instanceof sdk.ParameterNotFound || (error as Error).name === 'ParameterNotFound'
}

export class SsmTokenStore implements TokenStore {
  readonly location: string
  private client: SSMClient | undefined

  /** `client` lets tests and callers pass their own; the default honours AWS_ENDPOINT_URL(_SSM), AWS_REGION, profiles. */
  constructor(
    readonly parameterName: string,
    client?: SSMClient,
  ) {
    if (!SSM_NAME.test(parameterName) || parameterName.includes('//') || parameterName.endsWith('/')) {
      throw new UsageError(`"${parameterName}" is not a valid SSM parameter name.`, {
        hint: 'Use ssm:/<path>, e.g. ssm:/garmin-s3/tokens.',
      })
    }
    this.location = `ssm:${parameterName}`
    this.client = client
  }

  private async ssm(): Promise<{ sdk: SsmSdk; client: SSMClient }> {
    const sdk = await loadSsmSdk()
    this.client ??= new sdk.SSMClient({})
    return { sdk, client: this.client }
  }

  async load(): Promise<StoredTokens | undefined> {
    const { sdk, client } = await this.ssm()
    let text: string | undefined
    try {
      const out = await client.send(
        new sdk.GetParameterCommand({ Name: this.parameterName, WithDecryption: true }),
      )
      text = out.Parameter?.Value
    } catch (error) {
      if (isParameterNotFound(sdk, error)) return undefined
      throw this.awsError('read', 'ssm:GetParameter (and kms:Decrypt)', error)
    }
    if (text === undefined) return undefined
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new TokenStoreError(`The SSM parameter ${this.parameterName} does not hold JSON tokens.`, {
        hint: 'Run `garmin-s3 login --token-store ssm:...` to replace it.',
      })
    }
    return validateStoredTokens(value, this.location)
  }

  async save(tokens: StoredTokens): Promise<void> {
    const { sdk, client } = await this.ssm()
    try {
      await client.send(
        new sdk.PutParameterCommand({
          Name: this.parameterName,
          Value: JSON.stringify(tokens),
          Type: 'SecureString',
          Overwrite: true,
          Description: 'garmin-s3: Garmin Connect tokens (rotated on refresh)',
        }),
      )
    } catch (error) {
      throw this.awsError('write', 'ssm:PutParameter (and kms:Encrypt)', error)
    }
  }

  async clear(): Promise<boolean> {
    const { sdk, client } = await this.ssm()
    try {
      await client.send(new sdk.DeleteParameterCommand({ Name: this.parameterName }))
      return true
    } catch (error) {
      if (isParameterNotFound(sdk, error)) return false
      throw this.awsError('delete', 'ssm:DeleteParameter', error)
    }
  }

  private awsError(action: string, permission: string, error: unknown): GarminS3Error {
    // One rule for every AWS caller (src/aws/errors.ts): a missing region is a usage error, exit 2.
    if (isNoRegion(error)) return noRegionError(error)
    const name = awsErrorName(error) ?? 'Error'
    return new TokenStoreError(`Cannot ${action} the SSM parameter ${this.parameterName} (${name}).`, {
      hint: `Check the AWS credentials and region, and that they allow ${permission} on this parameter.`,
      cause: error,
    })
  }
}

/**
 * The store named by `--token-store` / GARMIN_S3_TOKEN_STORE: `ssm:/<name>` for SSM, anything else is a
 * file path (`~/` expanded). Default: the private file under the XDG config folder.
 */
export function openTokenStore(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): TokenStore {
  const chosen = (spec ?? env.GARMIN_S3_TOKEN_STORE)?.trim()
  if (!chosen) return new FileTokenStore(defaultTokenPath(env))
  if (chosen.startsWith('ssm:')) {
    const name = chosen.slice('ssm:'.length)
    if (!name.startsWith('/')) {
      throw new UsageError(`"${chosen}" is not an SSM token store.`, {
        hint: 'Use ssm:/<path>, e.g. ssm:/garmin-s3/tokens.',
      })
    }
    return new SsmTokenStore(name)
  }
  const home = env.HOME || homedir()
  const path = chosen === '~' ? home : chosen.startsWith('~/') ? join(home, chosen.slice(2)) : chosen
  return new FileTokenStore(path)
}
