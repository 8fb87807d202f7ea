namespace MeshBulkheads.Gateway.Identity;

/// <summary>
/// The keys the gateway signs identity tokens with (<c>Gateway:Identity</c>): one set per service (audience), so each
/// service holds only its own and cannot mint for another (docs/security.md).
/// </summary>
public sealed class GatewayIdentityOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Identity";

    /// <summary>
    /// Keys by audience (a cluster id: <c>payments</c>, <c>reporting</c>, <c>render</c>) and key id:
    /// <c>Gateway:Identity:Keys:&lt;service&gt;:&lt;kid&gt;</c>, each the base64 of at least 32 random bytes. Every audience must
    /// hold <see cref="SigningKeyId"/>; a call routed to a cluster without a key is refused (<c>UNAVAILABLE</c>).
    /// </summary>
    public Dictionary<string, Dictionary<string, string>> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The key id new tokens are signed with. Rotation: give every service the new key beside the old one (two live
    /// ids), switch this, and remove the old key once the last token signed with it expired (a deadline plus <see cref="ClockSkew"/>).
    /// </summary>
    public string SigningKeyId { get; set; } = string.Empty;

    /// <summary>How long a token outlives the deadline it is minted for, allowing for clock skew between hosts.</summary>
    /// <value>The default value is 5 seconds; 0 to 60 seconds.</value>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Downstream calls a service may make on its caller's behalf: for a call to <see cref="GatewayDelegation.Method"/>,
    /// the gateway also mints a token for <see cref="GatewayDelegation.Audience"/>'s <see cref="GatewayDelegation.DelegatedMethod"/>
    /// and sends it as <c>x-mesh-delegation</c>, which the service forwards unchanged.
    /// </summary>
    public List<GatewayDelegation> Delegations { get; set; } = [];
}

/// <summary>One delegation: while serving <see cref="Method"/>, its service may call <see cref="DelegatedMethod"/> on <see cref="Audience"/>.</summary>
public sealed class GatewayDelegation
{
    /// <summary>The method the client called, e.g. <c>/meshbulkheads.reporting.v1.ReportingService/BuildReport</c>.</summary>
    public string Method { get; set; } = string.Empty;

    /// <summary>The downstream service, e.g. <c>payments</c>.</summary>
    public string Audience { get; set; } = string.Empty;

    /// <summary>The one downstream method the token allows, e.g. <c>/meshbulkheads.payments.v1.PaymentsService/GetBalance</c>.</summary>
    public string DelegatedMethod { get; set; } = string.Empty;
}
