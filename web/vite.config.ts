import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into web/dist, which `spri view` serves. `npm run dev -w web` proxies the API to a running
// `spri view` on its default port.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: { proxy: { "/api": "http://127.0.0.1:8417" } },
});
