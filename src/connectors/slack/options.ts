/** Where the Slack connector reaches the workspace (or Enterprise Grid organization), and as whom. */
export interface SlackConnectorOptions {
  /**
   * A user token (xoxp-) of a Workspace or Org Owner/Admin, from an app holding the scopes `admin`
   * (SCIM), `users:read`, `users:read.email`, `usergroups:read`, `usergroups:write` and, on
   * Enterprise Grid, `admin.users:read` and `admin.users:write` (sessions).
   */
  token: string;
  /** Base of the Web API (ends with /api/); default Slack's. */
  apiUrl?: string;
  /** Base of the SCIM 2.0 API (ends with /scim/v2/); default Slack's. */
  scimUrl?: string;
  /** Per-request timeout; a request past it counts as the system being unavailable. */
  timeoutMs?: number;
}

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
export const DEFAULT_SLACK_SCIM_URL = 'https://api.slack.com/scim/v2/';
