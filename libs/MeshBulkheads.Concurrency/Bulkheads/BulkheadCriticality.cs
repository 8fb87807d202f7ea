namespace MeshBulkheads.Concurrency.Bulkheads;

/// <summary>How important a request is when the bulkhead must choose whom to shed.</summary>
/// <remarks>Travels as <c>x-mesh-criticality: critical | sheddable</c>.</remarks>
public enum BulkheadCriticality
{
    /// <summary>The request must not be displaced by other work (payments' <c>Charge</c>). The default.</summary>
    Critical = 0,

    /// <summary>The request may be displaced from a full queue by a critical one (reports, reads).</summary>
    Sheddable = 1,
}
