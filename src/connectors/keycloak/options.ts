/** Where the Keycloak connector reaches the realm, and the client it signs in as. */
export interface KeycloakConnectorOptions {
  /** Base URL of Keycloak (without /realms or /admin), e.g. https://sso.example.com. */
  url: string;
  /** The realm the organization's people live in; the client authenticates against it too. */
  realm: string;
  /** A confidential client with a service account holding realm-management's manage-users role. */
  clientId: string;
  clientSecret: string;
  /** Per-request timeout; a request past it counts as the system being unavailable. */
  timeoutMs?: number;
}
