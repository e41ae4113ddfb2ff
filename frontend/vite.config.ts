import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The gateway serves the built app at "/" and answers /api and /auth on the same origin.
// In development, VITE_GATEWAY_URL points the dev server's proxy at a running gateway.
const gateway = process.env.VITE_GATEWAY_URL ?? "http://localhost:8000";

export default defineConfig({
  base: "/",
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: gateway, changeOrigin: false },
      "/auth": { target: gateway, changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        manualChunks: {
          charts: ["recharts"],
          react: ["react", "react-dom", "react-router-dom"],
        },
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
