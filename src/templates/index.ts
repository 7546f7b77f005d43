// Ready-made resolveTemplate hooks: a static map and a folder of files.
export {
  type FolderTemplatesOptions,
  folderTemplates,
} from './folder-templates.js';
export { staticTemplates } from './static-templates.js';
