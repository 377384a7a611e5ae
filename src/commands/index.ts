/**
 * The CLI as oclif runs it, bundled by scripts/bundle-cli.js into dist/bundle/main.js: oclif's
 * `execute` and every command class, so that one file (oclif, the commands and what they import at
 * start) loads instead of some 300 modules. package.json "oclif.commands" names this module's
 * `COMMANDS` (oclif's explicit command strategy: no command folder to search), and bin/run.js
 * calls `execute` from the same bundle, so the commands extend the very oclif that runs them.
 * What a command needs only when it runs (the AWS SDK, ora, archiver, prompts) it imports then.
 */
import CatalogAthena from './catalog/athena.js'
import Curate from './curate.js'
import Deploy from './deploy.js'
import Destroy from './destroy.js'
import Doctor from './doctor.js'
import InitGitHubActions from './init/github-actions.js'
import Login from './login.js'
import Logout from './logout.js'
import Status from './status.js'
import Sync from './sync.js'

export { execute } from '@oclif/core/execute'
export { default as Help } from '../cli/help.js'

export const COMMANDS = {
  'catalog:athena': CatalogAthena,
  curate: Curate,
  deploy: Deploy,
  destroy: Destroy,
  doctor: Doctor,
  'init:github-actions': InitGitHubActions,
  login: Login,
  logout: Logout,
  status: Status,
  sync: Sync,
}
