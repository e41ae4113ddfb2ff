import { Link } from "react-router-dom";
import { EmptyState } from "../components/ui";

export function NotFound() {
  return (
    <EmptyState title="Page not found">
      <Link className="text-indigo-700 underline" to="/">
        Back to the dashboard
      </Link>
    </EmptyState>
  );
}
