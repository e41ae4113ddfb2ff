import { useEffect, useState } from "react";
import { getCampaign } from "../api/endpoints";

// One request per campaign however many messages name it (a customer's list repeats them).
const names = new Map<string, Promise<string | undefined>>();

function campaignName(id: string): Promise<string | undefined> {
  let name = names.get(id);
  if (!name) {
    name = getCampaign(id).then(
      (c) => c.name,
      () => undefined,
    );
    names.set(id, name);
  }
  return name;
}

/** A campaign's name (its id only while loading or when it cannot be read). */
export function CampaignName({ id }: { id: string }) {
  const [name, setName] = useState<string>();
  useEffect(() => {
    let current = true;
    void campaignName(id).then((n) => current && setName(n));
    return () => {
      current = false;
    };
  }, [id]);
  return <>{name ?? `Campaign ${id}`}</>;
}
