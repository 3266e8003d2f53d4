// Sign-in for the GraphiQL page: the login and logout mutations, and where the token is kept.
//
// The token lives in sessionStorage, so it lasts while the tab is open and
// is not shared with other tabs. It is only ever sent in the Authorization
// header (and in the WebSocket connection_init payload), never in a URL.

const STORAGE_KEY = 'pgbs.graphiql.session';

const LOGIN = `
  mutation GraphiQLLogin($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      token
      user { firstName lastName email isCoordinator }
      userErrors { field code message }
    }
  }
`;

const LOGOUT = 'mutation GraphiQLLogout { logout }';

async function post(endpoint, query, variables, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  if (!response.ok) {
    throw new Error(`The server returned HTTP ${response.status}.`);
  }
  const body = await response.json();
  if (body.errors?.length) {
    throw new Error(body.errors.map((error) => error.message).join(' '));
  }
  return body.data;
}

/** Return the session saved in this tab ({token, user}), or null. */
export function savedSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
    return session?.token ? session : null;
  } catch {
    return null;
  }
}

/** Sign in; return the new session, or throw an Error whose message can be shown as it is. */
export async function login(endpoint, email, password) {
  const { login: payload } = await post(endpoint, LOGIN, { email, password });
  if (payload.userErrors.length) {
    throw new Error(payload.userErrors.map((error) => error.message).join(' '));
  }
  const session = { token: payload.token, user: payload.user };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
}

/** Revoke the token on the server and forget it here, even when the server cannot be reached. */
export async function logout(endpoint, session) {
  sessionStorage.removeItem(STORAGE_KEY);
  try {
    await post(endpoint, LOGOUT, {}, session.token);
  } catch (error) {
    console.warn('logout failed; the token stays valid until it expires', error);
  }
}
