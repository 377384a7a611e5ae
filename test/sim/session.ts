/**
 * Logs in to a running simulator over plain HTTP, the way the mobile app does, and returns its tokens.
 * For tests that need a signed-in state without going through the Garmin client under test.
 */
import { DI_CLIENT_IDS, SERVICE_TICKET_GRANT } from './auth.js'

export const SIM_SERVICE_URL = 'https://mobile.integration.garmin.com/gcm/ios'

export interface SimTokens {
  accessToken: string
  refreshToken: string
  clientId: string
  expiresIn: number
  refreshTokenExpiresIn: number
}

export function loginUrl(base: string): string {
  const q = new URLSearchParams({ clientId: 'GCM_IOS_DARK', locale: 'en-US', service: SIM_SERVICE_URL })
  return `${base}/mobile/api/login?${q}`
}

export function basicAuth(clientId: string): string {
  return `Basic ${Buffer.from(`${clientId}:`).toString('base64')}`
}

/** `POST /di-oauth2-service/oauth/token` with a form body; answers status + parsed JSON. */
export async function tokenRequest(
  base: string,
  clientId: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/di-oauth2-service/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(clientId), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, ...form }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

export async function exchangeTicket(base: string, ticket: string, clientId: string = DI_CLIENT_IDS[0]) {
  return tokenRequest(base, clientId, {
    service_ticket: ticket,
    grant_type: SERVICE_TICKET_GRANT,
    service_url: SIM_SERVICE_URL,
  })
}

export async function refreshTokens(base: string, refreshToken: string, clientId: string = DI_CLIENT_IDS[0]) {
  return tokenRequest(base, clientId, { grant_type: 'refresh_token', refresh_token: refreshToken })
}

/** The newest MFA code the simulator sent (its inbox), or undefined when none was sent. */
export async function latestMfaCode(base: string): Promise<string | undefined> {
  const res = await fetch(`${base}/__sim/inbox`)
  const { messages } = (await res.json()) as { messages: { code: string }[] }
  return messages.at(-1)?.code
}

/** Full login (password, the inbox's MFA code when asked, ticket exchange); throws on anything but success. */
export async function loginToSim(
  base: string,
  credentials: { email: string; password: string; clientId?: string },
): Promise<SimTokens> {
  const res = await fetch(loginUrl(base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({
      username: credentials.email,
      password: credentials.password,
      rememberMe: true,
      captchaToken: '',
    }),
  })
  let answer = (await res.json()) as { responseStatus?: { type?: string }; serviceTicketId?: string }
  if (answer.responseStatus?.type === 'MFA_REQUIRED') {
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const q = new URLSearchParams({ clientId: 'GCM_IOS_DARK', locale: 'en-US', service: SIM_SERVICE_URL })
    const mfa = await fetch(`${base}/mobile/api/mfa/verifyCode?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base, cookie },
      body: JSON.stringify({
        mfaMethod: 'email',
        mfaVerificationCode: (await latestMfaCode(base)) ?? '',
        rememberMyBrowser: true,
        reconsentList: [],
        mfaSetup: false,
      }),
    })
    answer = (await mfa.json()) as typeof answer
  }
  if (answer.responseStatus?.type !== 'SUCCESSFUL' || !answer.serviceTicketId) {
    throw new Error(`sim login failed: ${answer.responseStatus?.type ?? 'no responseStatus'}`)
  }
  const clientId = credentials.clientId ?? DI_CLIENT_IDS[0]
  const token = await exchangeTicket(base, answer.serviceTicketId, clientId)
  if (token.status !== 200)
    throw new Error(`sim token exchange failed: ${token.status} ${String(token.body.error)}`)
  return {
    accessToken: token.body.access_token as string,
    refreshToken: token.body.refresh_token as string,
    clientId,
    expiresIn: token.body.expires_in as number,
    refreshTokenExpiresIn: token.body.refresh_token_expires_in as number,
  }
}
