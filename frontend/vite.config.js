import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { compression } from 'vite-plugin-compression2'

// The Flask backend; Vite's dev server forwards the API and the socket to it.
const backend = process.env.ASSETFLOW_BACKEND || 'http://127.0.0.1:5000'

export default defineConfig({
  plugins: [
    vue(),
    // Each <el-…> tag and v-loading imports just that component and its CSS, so a page
    // carries only what it shows (docs/frontend.md has the sizes).
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
    // .gz and .br beside each file; Flask sends the one the browser accepts (assetflow/web.py).
    compression({ algorithms: ['gzip', 'brotliCompress'], include: /\.(js|css|svg|json)$/, logLevel: 'silent' }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/healthz': { target: backend, changeOrigin: true },
      '/socket.io': { target: backend, changeOrigin: true, ws: true },
    },
  },
  build: {
    outDir: 'dist',
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.spec.js'],
    restoreMocks: true,
    // The on-demand imports pull Element Plus's CSS files: let Vite, not Node, load them.
    server: { deps: { inline: ['element-plus'] } },
  },
})
