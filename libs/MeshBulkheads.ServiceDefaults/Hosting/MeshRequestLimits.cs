namespace MeshBulkheads.ServiceDefaults.Hosting;

/// <summary>
/// The one home of the request header limits: what every host's Kestrel accepts, and the smaller block the gateway
/// forwards, so that what it adds to a call never pushes the block over a backend's limit (issue 15, K2).
/// </summary>
/// <remarks>
/// Kestrel answers a header block over <c>MaxRequestHeadersTotalSize</c> (counted as the names' and values' lengths)
/// with 431 and closes the connection past twice the limit; it advertises the limit as HTTP/2
/// <c>SETTINGS_MAX_HEADER_LIST_SIZE</c>, which SocketsHttpHandler — YARP's client towards the backends — counts with
/// RFC 9113's 32 bytes per field and refuses to exceed. A client block just under the gateway's own limit therefore
/// came back <c>UNAVAILABLE</c> "backend … unavailable (Request)": the gateway adds the identity token(s), the tenant,
/// the criticality, the forwarded deadline and the trace context. The gateway refuses what it could not forward
/// (<c>request-headers-too-large</c>) before any other work. The headroom is measured, not guessed: the
/// gateway's tests send a block at exactly <see cref="GatewayForwardedHeadersTotalSize"/> to the method that gets the
/// most added headers (BuildReport: two tokens) and require it to be served.
/// </remarks>
public static class MeshRequestLimits
{
    /// <summary>Kestrel's <c>MaxRequestHeadersTotalSize</c> on every host (its default, set explicitly so the gateway's limit derives from it): 32 KB.</summary>
    public const int RequestHeadersTotalSize = 32 * 1024;

    /// <summary>Kestrel's <c>MaxRequestHeaderCount</c> on every host (its default): 100 fields.</summary>
    public const int RequestHeaderCount = 100;

    /// <summary>
    /// Room for what the gateway adds, counted as SocketsHttpHandler counts towards the backend (name + value + 32 per
    /// field): the identity token (two for BuildReport, the delegation), tenant, criticality, the forwarded deadline and
    /// the trace context: 4 KB. The client's own block is counted the same way (<see cref="HeaderListSize"/>), so the
    /// per-field overhead is already in it; what the gateway removes (<c>x-api-key</c>) is counted too, as slack.
    /// </summary>
    public const int GatewayAddedHeaderBytes = 4 * 1024;

    /// <summary>Header fields the gateway may add to a call (tokens, tenant, criticality, deadline, trace context, with room).</summary>
    public const int GatewayAddedHeaderCount = 16;

    /// <summary>The largest header block the gateway forwards, counted as SocketsHttpHandler does (name + value + 32 per field, pseudo-headers included): 28 KB.</summary>
    public const int GatewayForwardedHeadersTotalSize = RequestHeadersTotalSize - GatewayAddedHeaderBytes;

    /// <summary>The most header fields the gateway forwards (pseudo-headers not counted): 84.</summary>
    public const int GatewayForwardedHeaderCount = RequestHeaderCount - GatewayAddedHeaderCount;

    /// <summary>RFC 9113 section 6.5.2: each field counts its name's and value's octets plus 32.</summary>
    public const int FieldOverhead = 32;

    /// <summary>
    /// The size of <paramref name="request"/>'s header block as an HTTP/2 client counts it towards the peer's
    /// <c>SETTINGS_MAX_HEADER_LIST_SIZE</c>: every field's name and value plus <see cref="FieldOverhead"/>, the four
    /// pseudo-headers included. Header values are ASCII on the wire (Kestrel refuses others by default), so characters
    /// count as octets. Errs on the large side: Kestrel also lists <c>:authority</c> as <c>Host</c>, counted twice here.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="fields">The number of header fields, pseudo-headers not counted.</param>
    /// <returns>The block's size in octets.</returns>
    public static long HeaderListSize(HttpRequest request, out int fields)
    {
        ArgumentNullException.ThrowIfNull(request);
        long size = (4 * FieldOverhead) + ":method".Length + request.Method.Length + ":scheme".Length + request.Scheme.Length
            + ":authority".Length + (request.Host.Value?.Length ?? 0)
            + ":path".Length + (request.PathBase.Value?.Length ?? 0) + (request.Path.Value?.Length ?? 0) + (request.QueryString.Value?.Length ?? 0);
        fields = 0;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                size += FieldOverhead + name.Length + (value?.Length ?? 0);
                fields++;
            }
        }

        return size;
    }
}
