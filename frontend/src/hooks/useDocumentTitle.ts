import { useEffect } from "react";

/** The browser tab names the page. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = `${title} · Mini CRM`;
    return () => {
      document.title = previous;
    };
  }, [title]);
}
