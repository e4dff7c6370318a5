/** Settings of the Gitea connector (from GITEA_URL, GITEA_TOKEN and GITEA_FALLBACK_OWNER). */
export interface GiteaConnectorOptions {
  /** Gitea's base URL, e.g. https://git.example.com (the API is under /api/v1). */
  url: string;
  /** An access token of a site administrator (scopes write:admin, write:organization, write:repository, write:user). */
  token: string;
  /**
   * Who receives a leaver's repositories when the offboarding's new owner has no Gitea account
   * (a user or an organization). Unset: such a transfer fails and verification stays unclean.
   */
  fallbackOwner?: string;
  /** Time limit of one API call. */
  timeoutMs?: number;
}

export const DEFAULT_GITEA_TIMEOUT_MS = 15_000;
