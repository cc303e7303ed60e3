-- +goose Up
-- An annual report may link to its document (the imported reports of the
-- years before the installation were published elsewhere).
ALTER TABLE annual_reports ADD COLUMN document_url text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE annual_reports DROP COLUMN document_url;
