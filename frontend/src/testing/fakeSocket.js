// A stand-in for socket.io-client's io(): it records options, runs the auth
// callback on connect() like the real client, and lets a spec play the server.
import { vi } from 'vitest'

export function createFakeIo() {
  const sockets = []
  const io = vi.fn((url, options) => {
    const handlers = {}
    const managerHandlers = {}
    const fire = (table, event, ...args) => (table[event] || []).forEach((h) => h(...args))
    const socket = {
      url,
      options,
      connected: false,
      active: false,
      lastAuth: null,
      emitted: [],
      on(event, h) {
        ;(handlers[event] ||= []).push(h)
        return socket
      },
      removeAllListeners() {
        for (const k of Object.keys(handlers)) delete handlers[k]
      },
      io: {
        // The Manager's backoff settings, as its setters leave them.
        backoff: { reconnectionDelay: options.reconnectionDelay, randomizationFactor: options.randomizationFactor },
        reconnectionDelay: vi.fn((v) => (socket.io.backoff.reconnectionDelay = v)),
        randomizationFactor: vi.fn((v) => (socket.io.backoff.randomizationFactor = v)),
        on(event, h) {
          ;(managerHandlers[event] ||= []).push(h)
        },
        removeAllListeners() {
          for (const k of Object.keys(managerHandlers)) delete managerHandlers[k]
        },
      },
      connect: vi.fn(() => {
        socket.active = true
        options.auth((auth) => {
          socket.lastAuth = auth
        })
        return socket
      }),
      disconnect: vi.fn(() => {
        const was = socket.connected
        socket.connected = false
        socket.active = false
        if (was) fire(handlers, 'disconnect', 'io client disconnect')
      }),
      timeout() {
        return {
          emit: (event, data, cb) => socket.emitted.push({ event, data, cb }),
        }
      },
      // --- the server's side, for specs ---
      serverAccept() {
        socket.connected = true
        fire(handlers, 'connect')
      },
      serverRefuse(message = 'unauthorized', data = undefined) {
        socket.active = false
        // socket.io-client's refusal: the server's message, and its data when it sent any.
        fire(handlers, 'connect_error', Object.assign(new Error(message), data === undefined ? {} : { data }))
      },
      serverDrop(reason = 'transport close') {
        socket.connected = false
        fire(handlers, 'disconnect', reason)
      },
      serverEmit(event, payload) {
        fire(handlers, event, payload)
      },
      managerEmit(event, ...args) {
        fire(managerHandlers, event, ...args)
      },
    }
    sockets.push(socket)
    return socket
  })
  return { io, sockets }
}
