import { Link } from "react-router-dom";
import { EmptyState, PageHeader } from "../components/ui";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function NotFound() {
  useDocumentTitle("Page not found");
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState title="There is no page at this address.">
        <Link className="text-indigo-700 underline" to="/">
          Back to the dashboard
        </Link>
      </EmptyState>
    </>
  );
}
