package revision

import (
	"context"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
)

// View is a revision as one viewer may see it: everyone sees the draft sent
// out for consultation and the comments the council has responded to;
// those who may read the revision's private side see every draft and
// comment.
type View struct {
	Instance *store.Instance
	Drafts   []*store.Draft
	Comments []*store.Comment
	Private  bool
}

// ViewOf is the revision of a version as pr may see it (nil when there is
// none).
func (s *Service) ViewOf(ctx context.Context, pr authz.Principal, versionID uuid.UUID) (*View, error) {
	in, err := s.Revision(ctx, versionID)
	if err != nil || in == nil {
		return nil, err
	}
	drafts, err := s.Drafts(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	comments, err := s.Comments(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	v := &View{Instance: in, Private: s.eng.CanReadPrivate(pr, in), Drafts: drafts, Comments: comments}
	if v.Private {
		return v, nil
	}
	public, _ := ConsultationDraft(in)
	v.Drafts, v.Comments = nil, nil
	for _, d := range drafts {
		if d.ID == public {
			v.Drafts = append(v.Drafts, d)
		}
	}
	for _, c := range comments {
		if c.Response != nil {
			v.Comments = append(v.Comments, c)
		}
	}
	return v, nil
}
