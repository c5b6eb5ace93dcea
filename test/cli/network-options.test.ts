import t from 'tap'
import yargs from 'yargs'
import { type NetworkArgs, networkFlags, networkOptions, nodeOptions } from '../../cli/network-options.js'
import { Output } from '../../cli/output.js'
import { mapsFrom } from '../../lib/node/portmap.js'

const ctx = {
  dir: '/tmp/unused',
  instance: 'alice',
  out: new Output(true),
  signal: new AbortController().signal,
}

function parse(words: string[]): NetworkArgs {
  return networkOptions(yargs(words)).parseSync() as NetworkArgs
}

t.test(
  'port mapping is on unless --no-port-mapping, and the daemon child inherits the refusal',
  async (t) => {
    t.equal(nodeOptions(parse([]), ctx).portMapping, true, 'no flag: on')
    t.equal(nodeOptions(parse(['--port-mapping']), ctx).portMapping, true)
    const refused = parse(['--no-port-mapping'])
    t.equal(nodeOptions(refused, ctx).portMapping, false, '--no-port-mapping: off')
    t.same(networkFlags(refused), ['--no-port-mapping'], 'passed on to the detached daemon')
    t.same(networkFlags(parse([])), [], 'the default needs no flag')
    t.equal(nodeOptions(parse(networkFlags(refused)), ctx).portMapping, false, 'and parses back to off')
  },
)

t.test('a node bound to loopback never asks a router for a mapping', async (t) => {
  t.equal(mapsFrom('127.0.0.1'), false)
  t.equal(mapsFrom('::1'), false)
  t.equal(mapsFrom('0.0.0.0'), true, 'the default wildcard bind does')
  t.equal(mapsFrom('192.168.1.20'), true)
})
