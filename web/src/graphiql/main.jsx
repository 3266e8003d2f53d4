// The GraphiQL page served at /graphql to browsers, with a sign-in bar above the IDE.
import './workers.js';
import 'graphiql/style.css';
import './page.css';

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';

import { login, logout, savedSession } from './session.js';

const ENDPOINT = '/graphql';

const DEFAULT_QUERY = `# Sign in above to run operations as a member.
query Viewer {
  viewer {
    firstName
    lastName
    email
    isCoordinator
  }
}
`;

function webSocketUrl() {
  const url = new URL(ENDPOINT, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** A fetcher that sends the session's token in the Authorization header and in connection_init. */
function useFetcher(session) {
  const token = session?.token ?? null;
  const wsClient = useMemo(
    () => createClient({
      url: webSocketUrl(),
      lazy: true,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    }),
    [token],
  );
  useEffect(() => () => wsClient.dispose(), [wsClient]);

  return useMemo(
    () => createGraphiQLFetcher({
      url: ENDPOINT,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      wsClient,
      enableIncrementalDelivery: false,
    }),
    [token, wsClient],
  );
}

function SignInBar({ session, onSession }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSession(await login(ENDPOINT, email, password));
      setPassword('');
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  const signOut = async () => {
    await logout(ENDPOINT, session);
    onSession(null);
  };

  if (session) {
    const { user } = session;
    return (
      <div className="session-bar" role="region" aria-label="Session">
        <span className="title">PGBS GraphQL API</span>
        <span id="signed-in-as">
          Signed in as {user.firstName} {user.lastName} ({user.email}){user.isCoordinator ? ', coordinator' : ''}
        </span>
        <button type="button" onClick={signOut}>Sign out</button>
      </div>
    );
  }

  // method="post" keeps the password out of the URL even if the handler never runs.
  return (
    <form className="session-bar" method="post" aria-label="Sign in" onSubmit={submit}>
      <span className="title">PGBS GraphQL API</span>
      <label>
        E-mail <input id="signin-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Password <input id="signin-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button id="signin-submit" type="submit" disabled={busy}>Sign in</button>
      {error && <span id="signin-error" role="alert">{error}</span>}
    </form>
  );
}

function Page() {
  const [session, setSession] = useState(savedSession);
  const fetcher = useFetcher(session);
  return (
    <div className="page">
      <SignInBar session={session} onSession={setSession} />
      <div className="ide">
        <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
      </div>
    </div>
  );
}

createRoot(document.getElementById('graphiql')).render(<Page />);
