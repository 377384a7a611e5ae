import { S3Client, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3'
const endpoint = process.argv[2]; const n = +process.argv[3]; const conc = +process.argv[4]
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'x' } })
await s3.send(new CreateBucketCommand({ Bucket: 'bench-bucket' })).catch(() => {})
const body = JSON.stringify({ activityId: 1, x: 'y'.repeat(2500) })
let i = 0; const t0 = performance.now()
await Promise.all(Array.from({ length: conc }, async () => { while (i < n) { const k = i++; await s3.send(new PutObjectCommand({ Bucket: 'bench-bucket', Key: `raw/activity_${k}_${Date.now()}.json`, Body: body, IfNoneMatch: '*', ContentType: 'application/json' })) } }))
const ms = performance.now() - t0
console.log(`${n} PUTs conc ${conc}: ${ms.toFixed(0)} ms, ${(n / ms * 1000).toFixed(0)}/s, client cpu ${(process.cpuUsage().user/1000).toFixed(0)} ms`)
