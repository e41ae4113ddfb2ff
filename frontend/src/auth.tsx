import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiError, UNAUTHORIZED_EVENT } from "./api/client";
import { getAuthConfig, getUser, logout as apiLogout } from "./api/endpoints";
import type { AuthConfig, User } from "./api/types";

interface AuthState {
  user: User | null;
  config: AuthConfig | null;
  checking: boolean;
  error: unknown;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [config, setConfig] = useState<AuthConfig | null>(null);
  const [checking, setChecking] = useState(true);
  const [error, setError] = useState<unknown>();

  const refresh = useCallback(async () => {
    setChecking(true);
    setError(undefined);
    try {
      setConfig(await getAuthConfig());
    } catch (err) {
      setError(err);
    }
    try {
      setUser(await getUser());
    } catch (err) {
      setUser(null);
      if (!(err instanceof ApiError && err.status === 401)) setError(err);
    } finally {
      setChecking(false);
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await apiLogout();
    } finally {
      setUser(null);
    }
  }, []);

  useEffect(() => {
    void refresh();
    const onUnauthorized = () => setUser(null);
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [refresh]);

  return (
    <AuthContext.Provider value={{ user, config, checking, error, refresh, signOut }}>
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}
