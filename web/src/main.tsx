import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { type ServerInfoResponse, useApi } from "./api.ts";
import { ItemPage } from "./pages/ItemPage.tsx";
import { IterationsPage } from "./pages/IterationsPage.tsx";
import { PlaygroundPage } from "./pages/PlaygroundPage.tsx";
import { RunPage } from "./pages/RunPage.tsx";
import { RunsPage } from "./pages/RunsPage.tsx";
import { Link, parseRoute, useLocation } from "./router.tsx";
import "./styles.css";

function App() {
  const location = useLocation();
  const route = parseRoute(location);
  const info = useApi<ServerInfoResponse>("/api/info");
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          spri <span>viewer</span>
        </Link>
        <nav>
          <Link to="/" className={route.page === "runs" || route.page === "run" || route.page === "item" ? "active" : ""}>
            Runs
          </Link>
          <Link to="/playground" className={route.page === "playground" ? "active" : ""}>
            Playground
          </Link>
          {info.data?.iterations && (
            <Link to="/iterations" className={route.page === "iterations" ? "active" : ""}>
              Iterations
            </Link>
          )}
        </nav>
      </header>
      <main>
        {route.page === "runs" && <RunsPage />}
        {route.page === "run" && <RunPage key={route.runId} runId={route.runId} />}
        {route.page === "item" && <ItemPage key={`${route.runId}/${route.itemId}`} runId={route.runId} itemId={route.itemId} />}
        {route.page === "playground" && <PlaygroundPage />}
        {route.page === "iterations" && <IterationsPage />}
        {route.page === "missing" && (
          <div className="page">
            <h1>Not found</h1>
            <p>
              <Link to="/">Back to the runs</Link>
            </p>
          </div>
        )}
      </main>
    </>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
