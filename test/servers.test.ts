import { describe, expect, inject, it } from 'vitest'

describe('test servers', () => {
  it('moto_server and SeaweedFS answer on loopback', async () => {
    for (const endpoint of [inject('motoEndpoint'), inject('seaweedEndpoint')]) {
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const res = await fetch(`${endpoint}/`)
      expect(res.status).toBeLessThan(500)
    }
  })
})
