// As create-vue sets it up: ESLint for mistakes, Prettier (run on its own) for layout.
import { defineConfig, globalIgnores } from 'eslint/config'
import globals from 'globals'
import js from '@eslint/js'
import pluginVue from 'eslint-plugin-vue'
import skipFormatting from '@vue/eslint-config-prettier/skip-formatting'

export default defineConfig([
  { name: 'app/files-to-lint', files: ['**/*.{js,mjs,vue}'] },
  globalIgnores(['**/dist/**', '**/coverage/**', 'e2e/screenshots/**']),
  { languageOptions: { globals: { ...globals.browser } } },
  js.configs.recommended,
  ...pluginVue.configs['flat/essential'],
  // `const { dropped: _, ...rest } = obj` is how we copy an object without a key.
  { rules: { 'no-unused-vars': ['error', { ignoreRestSiblings: true }] } },
  { files: ['e2e/**', '*.config.js'], languageOptions: { globals: { ...globals.node } } },
  skipFormatting,
])
