// Who a signed-in user is to the tickets: what the console writes as a
// ticket's assignee when an agent takes it ("assign to me"), and how it
// recognises its own.
export const assigneeOf = (user) => user.email;

export const isMine = (ticket, user) => !!ticket && !!ticket.assignee &&
	(ticket.assignee === user.email || ticket.assignee === user.name || ticket.assignee === String(user.id));
