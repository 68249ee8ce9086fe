"""Media: content-addressed originals (photos, signature images, video), resumable uploads,
and regenerable derivatives (thumbnail, watermarked display copy). See docs/media.md."""
