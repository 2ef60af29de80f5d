import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Template components bring their own CSS (vite.config.js); these three are called from code.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import 'element-plus/es/components/notification/style/css'
import App from './App.vue'
import { i18n } from './i18n'
import router from './router'
import './styles.css'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(router)
app.mount('#app')
