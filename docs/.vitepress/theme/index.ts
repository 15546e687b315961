// The default theme, with links to what the platform serves outside the site (see PlatformLink).
import DefaultTheme from 'vitepress/theme';
import { h } from 'vue';
import PlatformLink from './PlatformLink.vue';
import type { Theme } from 'vitepress';

export default {
  extends: DefaultTheme,
  Layout: () =>
    h(DefaultTheme.Layout, null, {
      'sidebar-nav-after': () =>
        h('div', { class: 'PlatformLinks' }, [h('p', { class: 'title' }, 'On the platform'), h(PlatformLink, { text: 'API reference (Swagger UI)', href: '/docs', sidebar: true })]),
    }),
  enhanceApp({ app }) {
    app.component('PlatformLink', PlatformLink);
  },
} satisfies Theme;
