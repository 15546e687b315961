// One page per file of the repository outside docs/ that a guide links to (see
// ../.vitepress/site-links.mjs): `../cluster/README.md` in a guide leads to repository/cluster/README.
import { repositoryFiles, repositoryPage, repositoryPageContent } from '../.vitepress/site-links.mjs';

export default {
  paths: () =>
    repositoryFiles().map((file) => ({
      params: { file: repositoryPage(file).slice('repository/'.length).replace(/\.md$/, '') },
      content: repositoryPageContent(file),
    })),
};
