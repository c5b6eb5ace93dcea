#!/usr/bin/env node
/**
 * The `pairctl` command (`spec/control.md` §8). The package's `bin` is the compiled `dist/cli/pairctl.js`.
 * @module
 */
import { main } from './main.js'

process.exit(await main(process.argv.slice(2)))
