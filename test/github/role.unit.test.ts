/**
 * Reusing a GitHub OIDC provider someone else created: one that lacks the STS audience gets it added
 * (moto does not implement AddClientIDToOpenIDConnectProvider, hence a mocked IAM here), and nothing
 * of theirs is ever deleted.
 */
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { describe, expect, it } from 'vitest'
import { ensureGitHubRole } from '../../src/github/role.js'
import { fixtureTokens } from '../deploy/helpers.js'

const ACCOUNT = { accountId: '123456789012', partition: 'aws', region: 'us-east-1' }
const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'

describe('ensureGitHubRole with an existing provider', () => {
  it('adds the sts.amazonaws.com audience to a provider that lacks it, and creates the rest', async () => {
    const iam = mockClient(IAMClient)
    const ssm = mockClient(SSMClient)
    const missing = () => new NoSuchEntityException({ message: 'not found', $metadata: {} })
    iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ ClientIDList: ['sigstore'], Url: 'token.actions.githubusercontent.com' })
    iam.on(GetRoleCommand).rejects(missing())
    iam.on(GetRolePolicyCommand).rejects(missing())
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'none', $metadata: {} }))

    const { changes, plan } = await ensureGitHubRole(
      {
        name: 'garmin-s3',
        bucket: 'my-lake',
        prefix: 'raw-data/garmin-json/',
        controlPrefix: 'raw-data/_garmin-s3/',
        repo: { owner: 'octocat', name: 'garmin-data' },
        branch: 'main',
      },
      {
        clients: { iam: new IAMClient({}), ssm: new SSMClient({}) },
        account: ACCOUNT,
        tokens: fixtureTokens(),
      },
    )

    expect(changes.map((c) => `${c.action} ${c.resource}`)).toEqual([
      'update iam-oidc-provider',
      'create iam-role',
      'create iam-role-policy',
      'create ssm-parameter',
    ])
    expect(changes[0]?.fields).toEqual(['audience sts.amazonaws.com'])
    expect(plan.roleArn).toBe('arn:aws:iam::123456789012:role/garmin-s3-github')
    expect(iam.commandCalls(AddClientIDToOpenIDConnectProviderCommand)[0]?.args[0].input).toEqual({
      OpenIDConnectProviderArn: PROVIDER,
      ClientID: 'sts.amazonaws.com',
    })
    expect(iam.commandCalls(CreateOpenIDConnectProviderCommand)).toHaveLength(0)
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(1)
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1)
    const put = ssm.commandCalls(PutParameterCommand)[0]?.args[0].input
    expect(put).toMatchObject({ Name: '/garmin-s3/tokens', Type: 'SecureString' })
    iam.restore()
    ssm.restore()
  })
})
