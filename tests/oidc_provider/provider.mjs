// A real OpenID Connect provider for the tests (npm oidc-provider), on loopback only.
// Configured by environment:
//   OIDC_TEST_PORT      port on 127.0.0.1
//   OIDC_TEST_CLIENT    JSON: {"client_id", "client_secret", "redirect_uris": [...]}
//   OIDC_TEST_ACCOUNTS  JSON: {"<login>": {claims...}, ...}
// People sign in on the provider's built-in development pages (any password); their claims
// come from OIDC_TEST_ACCOUNTS. The grant is given without a consent page (a first-party app).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_TEST_PORT);
const client = JSON.parse(process.env.OIDC_TEST_CLIENT);
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-key", alg: "RS256", use: "sig" };

const provider = new Provider(issuer, {
  clients: [{
    ...client,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "given_name", "family_name", "name"],
    groups: ["groups"],
  },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(accounts, id)) { return undefined; }
    return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) { return ctx.oidc.provider.Grant.find(grantId); }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    grant.addOIDCClaims(["preferred_username", "groups", "email", "given_name", "family_name"]);
    await grant.save();
    return grant;
  },
});

provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
