//! Media inputs of a run: the client's `images` / `input_files` JSON fields and multipart `files` uploads, as content blocks the model reads.

use agent_core::{ContentBlock, MediaSource};
use base64::Engine as _;
use serde_json::Value;

use crate::error::ApiError;
use crate::form::{Fields, Upload};

/// The content blocks of a run's media, in the order sent: images, then
/// documents, then uploads. Audio and video are refused (the models served
/// here read neither), as is a file type no model reads.
pub(crate) fn blocks(fields: &Fields) -> Result<Vec<ContentBlock>, ApiError> {
    for name in ["audio", "videos"] {
        if fields.json_array(name)?.is_some_and(|items| !items.is_empty()) {
            return Err(ApiError::bad_request(format!(
                "`{name}` inputs are not supported: the models served here read text, images and documents"
            )));
        }
    }
    let mut blocks = Vec::new();
    for image in fields.json_array("images")?.unwrap_or_default() {
        blocks.push(ContentBlock::Image { source: source(&image, "images", "image/png")? });
    }
    for file in fields.json_array("input_files")?.unwrap_or_default() {
        let source = source(&file, "input_files", "application/pdf")?;
        let title = file.get("filename").and_then(Value::as_str).map(str::to_owned);
        blocks.push(document(source, title));
    }
    for upload in &fields.uploads {
        if upload.field == "files" || upload.field == "file" {
            blocks.push(upload_block(upload)?);
        }
    }
    Ok(blocks)
}

fn document(source: MediaSource, title: Option<String>) -> ContentBlock {
    ContentBlock::Document { source, title, context: None, citations: None }
}

/// Where a media object's bytes come from: a `url`, or base64 `content`.
fn source(item: &Value, field: &str, default_type: &str) -> Result<MediaSource, ApiError> {
    if let Some(url) = item.get("url").and_then(Value::as_str) {
        return Ok(MediaSource::Url { url: url.to_owned() });
    }
    let media_type = item
        .get("mime_type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| item.get("format").and_then(Value::as_str).map(|format| format!("image/{format}")))
        .unwrap_or_else(|| default_type.to_owned());
    let Some(content) = item.get("content").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(format!("each of `{field}` needs a `url` or base64 `content`")));
    };
    if media_type.starts_with("text/") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content)
            .map_err(|_| ApiError::bad_request(format!("`{field}` content is not valid base64")))?;
        let text =
            String::from_utf8(bytes).map_err(|_| ApiError::bad_request(format!("`{field}` text is not UTF-8")))?;
        return Ok(MediaSource::Text { media_type: "text/plain".into(), data: text });
    }
    Ok(MediaSource::Base64 { media_type, data: content.to_owned() })
}

fn upload_block(upload: &Upload) -> Result<ContentBlock, ApiError> {
    let name = upload.filename.clone().unwrap_or_else(|| "upload".into());
    let media_type = upload.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
    let base64 = || base64::engine::general_purpose::STANDARD.encode(&upload.bytes);
    if media_type.starts_with("image/") {
        return Ok(ContentBlock::Image { source: MediaSource::Base64 { media_type, data: base64() } });
    }
    if media_type == "application/pdf" {
        return Ok(document(MediaSource::Base64 { media_type, data: base64() }, Some(name)));
    }
    if media_type.starts_with("text/") || media_type == "application/json" {
        let text = String::from_utf8(upload.bytes.clone())
            .map_err(|_| ApiError::bad_request(format!("file `{name}` is not UTF-8 text")))?;
        return Ok(document(MediaSource::Text { media_type: "text/plain".into(), data: text }, Some(name)));
    }
    Err(ApiError::bad_request("Unsupported file type"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_and_files_become_blocks_and_audio_is_refused() {
        let fields = Fields::from_pairs(&[
            ("images", r#"[{"id": "i1", "url": "https://example.invalid/x.png"}]"#),
            ("input_files", r#"[{"id": "f1", "mime_type": "text/plain", "filename": "a.txt", "content": "aGVsbG8="}]"#),
        ]);
        let blocks = blocks(&fields).expect("media parse");
        assert_eq!(blocks.len(), 2);
        assert!(
            matches!(&blocks[0], ContentBlock::Image { source: MediaSource::Url { url } } if url.ends_with("x.png"))
        );
        assert!(
            matches!(&blocks[1], ContentBlock::Document { source: MediaSource::Text { data, .. }, .. } if data == "hello")
        );
        let audio = Fields::from_pairs(&[("audio", r#"[{"id": "a1", "url": "https://example.invalid/a.mp3"}]"#)]);
        assert_eq!(super::blocks(&audio).map_err(|e| e.status().as_u16()).err(), Some(400));
    }
}
