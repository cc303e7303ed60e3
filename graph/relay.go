package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/graph/bind"
	"github.com/samverkan/samverkan/graph/model"
	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/validate"
)

// Global IDs are base64url("Type:uuid"): opaque to clients, and the type
// lets node(id:) find the object.
const (
	typeUser                = "User"
	typeOrganisation        = "Organisation"
	typeAgreement           = "Agreement"
	typeAgreementVersion    = "AgreementVersion"
	typeInstance            = "WorkflowInstance"
	typeCeremony            = "Ceremony"
	typeActivity            = "Activity"
	typeIndicator           = "Indicator"
	typeDraft               = "RevisionDraft"
	typeComment             = "ConsultationComment"
	typeClaim               = "RepresentationClaim"
	typePartnership         = "Partnership"
	typePartnershipDraft    = "PartnershipDraft"
	typePartnershipDocument = "PartnershipDocument"
)

func globalID(typ string, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.String()))
}

// parseID decodes a global ID of one of the wanted types.
func parseID(field, gid string, want ...string) (string, uuid.UUID, error) {
	bad := apperr.Invalid(field, "%q är inget giltigt id. / %q is not a valid ID.", validate.Clip(gid), validate.Clip(gid))
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		return "", uuid.Nil, bad
	}
	typ, rest, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", uuid.Nil, bad
	}
	id, err := uuid.Parse(rest)
	if err != nil {
		return "", uuid.Nil, bad
	}
	if len(want) > 0 && !contains(want, typ) {
		return "", uuid.Nil, apperr.Invalid(field, "Id:t i %s gäller en %s, inte en %s. / The ID in %s is for a %s, not a %s.",
			field, typ, strings.Join(want, "/"), field, typ, strings.Join(want, "/"))
	}
	return typ, id, nil
}

// mustID decodes a global ID of one type.
func mustID(field, gid, typ string) (uuid.UUID, error) {
	_, id, err := parseID(field, gid, typ)
	return id, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pageSize applies the connection rules: first defaults to 20 and may not
// exceed 100.
func pageSize(first *int) (int, error) {
	if first == nil {
		return 20, nil
	}
	if *first < 0 || *first > 100 {
		return 0, apperr.Invalid("first", "first ska vara mellan 0 och 100 (var %d). / first must be between 0 and 100 (was %d).", *first, *first)
	}
	return *first, nil
}

// Cursors are base64url of a JSON array of their parts, so that no value
// (an organisation named "A|B", say) can change how a cursor splits.
func cursor(parts ...string) string {
	raw, _ := json.Marshal(parts) // a []string always encodes
	return base64.RawURLEncoding.EncodeToString(raw)
}

// parseCursor decodes a cursor of n parts; anything else, forged or
// garbled, is BAD_INPUT.
func parseCursor(after *string, n int) ([]string, error) {
	if after == nil || *after == "" {
		return nil, nil
	}
	if len(*after) > maxCursorLen {
		return nil, parseErr()
	}
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err != nil {
		return nil, parseErr()
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != n {
		return nil, parseErr()
	}
	return parts, nil
}

// maxCursorLen is far above any cursor we hand out (a name of 300
// characters and an id).
const maxCursorLen = 4096

func timeCursorPart(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func parseTimePart(s string) (time.Time, error) {
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, apperr.Invalid("after", "Ogiltig markör. / Invalid cursor.")
	}
	return time.UnixMicro(us).UTC(), nil
}

func (r *Resolver) node(ctx context.Context, gid string) (bind.Node, error) {
	typ, id, err := parseID("id", gid)
	if err != nil {
		return nil, err
	}
	l := loaders(ctx)
	pr := identity.FromContext(ctx)
	switch typ {
	case typeUser:
		if !r.Roles.CanSeeDetails(pr, id) {
			return nil, nil
		}
		return loadNode(ctx, l, l.User, id)
	case typeOrganisation:
		return loadNode(ctx, l, l.Organisation, id)
	case typeAgreement:
		return nilIfMissing(r.Registry.Agreement(ctx, id))
	case typeAgreementVersion:
		return loadNode(ctx, l, l.Version, id)
	case typeCeremony:
		return loadNode(ctx, l, l.Ceremony, id)
	case typePartnership:
		p, err := r.IOP.Get(ctx, pr, id)
		if apperr.IsCode(err, apperr.NotFound) || apperr.IsCode(err, apperr.Forbidden) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return p, nil
	case typeInstance:
		// The loader reads only what the viewer may see.
		return loadNode(ctx, l, l.Instance, id)
	}
	return nil, nil
}

// loadNode loads a node through its loader. When the operation asks for
// nothing but this node at its root, no other key can join the batch, so
// it is sent at once rather than after the loader's pause for more keys
// (a millisecond in which the request holds one of the query slots).
func loadNode[T any](ctx context.Context, l *Loaders, loader *Loader[uuid.UUID, *T], id uuid.UUID) (bind.Node, error) {
	if l.loneRootField {
		loader.Prime(ctx, id)
	}
	return nilIfMissing(load(ctx, loader, id))
}

// nilIfMissing turns a typed nil pointer into an untyped nil interface, so
// that node(id:) answers null rather than an empty object.
func nilIfMissing[T any](v *T, err error) (bind.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

func parseErr() error { return apperr.Invalid("after", "Ogiltig markör. / Invalid cursor.") }

func setCursors(p *model.PageInfo, n int, at func(int) string) {
	if n == 0 {
		return
	}
	s, e := at(0), at(n-1)
	p.StartCursor, p.EndCursor = &s, &e
}
