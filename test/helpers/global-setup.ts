import type { TestProject } from 'vitest/node'
import { type RunningServer, startMoto, startSeaweed } from './servers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string
    seaweedEndpoint: string
  }
}

/** One moto_server and one SeaweedFS for the whole run; tests isolate themselves by bucket name. */
export default async function setup(project: TestProject) {
  const servers: RunningServer[] = []
  try {
    const [moto, seaweed] = await Promise.all([startMoto(), startSeaweed()])
    servers.push(moto, seaweed)
    project.provide('motoEndpoint', moto.endpoint)
    project.provide('seaweedEndpoint', seaweed.endpoint)
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()))
    throw error
  }
  return async () => {
    await Promise.all(servers.map((s) => s.stop()))
  }
}
