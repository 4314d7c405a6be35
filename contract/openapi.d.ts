// Generated from contract/openapi.json by `npm run contract` (openapi-typescript). Do not edit.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether the bridge can take traffic */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tickets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List tickets, newest first */
        get: operations["listTickets"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tickets/{ticketId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: string;
            };
            cookie?: never;
        };
        /** A ticket with its messages and replies */
        get: operations["getTicket"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Set a ticket's status */
        patch: operations["setTicketStatus"];
        trace?: never;
    };
    "/tickets/{ticketId}/attachments/{attachmentId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: string;
                /** @description An attachment's `id` (`att-<X media key>`), as in a message's `attachments`. */
                attachmentId: string;
            };
            cookie?: never;
        };
        /**
         * A stored attachment (a DM's media): a redirect to a fresh short-lived link
         * @description For media the bridge keeps a copy of (a DM's, which X serves only to the brand account). Answers 302 to a link signed now that works for at most an hour without any credentials (on AWS a presigned S3 URL; locally the runner serves the file itself). Do not send your bearer token to that link: HTTP clients drop `Authorization` on a redirect to another host, and the link needs none.
         */
        get: operations["getAttachmentLink"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tickets/{ticketId}/replies": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reply through the brand account */
        post: operations["createReply"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    ticketEvent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A ticket changed */
        post: operations["ticketEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    channelHealthChanged: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The brand's X channel changed status */
        post: operations["channelHealthChanged"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /**
         * Ticket
         * @description A support ticket: one conversation with one customer on X.
         */
        Ticket: {
            /** @description Stable ticket id: `mn-<customer X user id>-<n>` for mention tickets, `dm-<customer X user id>-<n>` for DMs. */
            id: string;
            /** @description The brand slug of the bridge that sent the event. */
            brand: string;
            /**
             * @description open, pending (waiting for the customer) or solved.
             * @enum {string}
             */
            status: "open" | "pending" | "solved";
            /**
             * @description mention: public posts naming the brand account; dm: direct messages.
             * @enum {string}
             */
            channel: "mention" | "dm";
            /** @description The X account the ticket is with, with what X says of their profile. */
            customer: {
                /** @description The customer's numeric X user id, as a string. */
                xUserId: string;
                /** @description The customer's X handle, without @. */
                username: string;
                /** @description The customer's display name on X. A placeholder naming their X id when `unresolved` or `notFound`. */
                name: string;
                /** @description The customer's profile picture on X (an https URL), when X gave it. */
                profileImageUrl?: string;
                /** @description X's `verified_type`: "blue", "business", "government" or "none", when X gave it. */
                verifiedType?: string;
                /** @description How many accounts follow the customer, as X counted when the bridge last looked them up. */
                followersCount?: number;
                /** @description True when the customer's posts are protected (visible to their followers only). */
                protected?: boolean;
                /** @description True while the bridge could not look the customer up yet (X's body did not name them and the read budget was spent): `username` may be empty and `name` names their X id. A later event of this ticket completes them. */
                unresolved?: boolean;
                /** @description True when X says the account does not exist (deleted or suspended): `name` is a placeholder for good. */
                notFound?: boolean;
            } & {
                [key: string]: unknown;
            };
            /**
             * Format: date-time
             * @description When the ticket was opened.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When the ticket last changed.
             */
            updatedAt: string;
            /** @description Grows with every change to this ticket. Retries can deliver events out of order: apply an event only when its sequence is higher than the last one you applied for this ticket. */
            sequence: number;
            /** @description The solved ticket this one follows up, when the customer wrote again after the reopen window. */
            followUpOf?: string;
            /**
             * Format: date-time
             * @description When the ticket was last solved.
             */
            solvedAt?: string;
            /**
             * @description `listening` when one of the brand's listening queries found the post that opened the ticket: the customer did not write to the account. Under `X_REPLY_POLICY=summoned` X lets the account answer them publicly only if they mention it; answer by DM where they accept DMs, or ask them to mention the account. Absent when the customer wrote to the account (a mention, a reply or a DM).
             * @enum {string}
             */
            source?: "listening";
            /** @description The listening query that found the opening post, as the brand wrote it. */
            listeningQuery?: string;
            /** @description The tags the brand's tag rules gave the message that opened the ticket, in rule order. */
            tags?: string[];
            /**
             * @description What the brand's first matching priority rule said of the opening message. Absent: no rule matched (normal).
             * @enum {string}
             */
            priority?: "low" | "normal" | "high" | "urgent";
        } & {
            [key: string]: unknown;
        };
        /**
         * Attachment
         * @description A photo, video, GIF or file on a message.
         */
        Attachment: {
            /** @description Stable attachment id (`att-<X media key>`), the same in every event and API answer. */
            id: string;
            /**
             * @description photo, video, animated_gif (X plays GIFs as short videos) or file.
             * @enum {string}
             */
            type: "photo" | "video" | "animated_gif" | "file";
            /** @description Where to get the file. For a post's media, X's public address (for a video, its best mp4). For media the bridge keeps a copy of (a DM's, which X serves only to the brand account): a short-lived link when `expiresAt` is set, else the path `/tickets/{ticketId}/attachments/{attachmentId}` of this API, which answers (with the bearer token) with the file or a fresh link. Empty when X gave no address. */
            url: string;
            /** @description A still image of a video or GIF, when X gave one. */
            previewUrl?: string;
            /** @description The description the author wrote for the media, for people who cannot see it. */
            altText?: string;
            /** @description Width in pixels, when X gave it. */
            width?: number;
            /** @description Height in pixels, when X gave it. */
            height?: number;
            /** @description Length of a video in milliseconds, when X gave it. */
            durationMs?: number;
            /** @description The file's media type (for example `image/jpeg` or `video/mp4`), when known. */
            contentType?: string;
            /**
             * Format: date-time
             * @description When the short-lived link in `url` stops working; ask the API for a fresh one.
             */
            expiresAt?: string;
            /** @description Set when the bridge could not keep a copy of media X serves only to the brand account. */
            error?: {
                /** @description A stable machine-readable reason, for example `too_large` or `fetch_failed`. */
                code: string;
                /** @description What went wrong, in plain words. */
                message: string;
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * Link
         * @description A link in a message, as the customer typed it.
         */
        Link: {
            /** @description X's t.co wrapper of the link. */
            url: string;
            /** @description The URL the customer typed; it is what `text` shows in the link's place. */
            expandedUrl: string;
            /** @description The shortened form X displays. */
            displayUrl: string;
        } & {
            [key: string]: unknown;
        };
        /**
         * Quoted post
         * @description The post a quote post quotes.
         */
        QuotedPost: {
            /** @description The quoted post's id on X. */
            xId: string;
            /** @description The quoted post's text, when X included it or the bridge had it. Absent once the quote is redacted. */
            text?: string;
            /** @description Who wrote the quoted post, when known. */
            author?: {
                /** @description The quoted author's numeric X user id. */
                xUserId: string;
                /** @description The quoted author's X handle, without @. */
                username: string;
                /** @description The quoted author's display name. */
                name?: string;
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * Message
         * @description One X post or direct message in a ticket.
         */
        Message: {
            /** @description Stable message id (`msg-<X id>`); use it as `inReplyToMessageId` when replying. */
            id: string;
            /** @description The ticket the message belongs to. */
            ticketId: string;
            /** @description The post or DM event id on X, as a string. */
            xId: string;
            /**
             * @description inbound: written by the customer; outbound: written by the brand account.
             * @enum {string}
             */
            direction: "inbound" | "outbound";
            /**
             * @description mention: a public post; dm: a direct message.
             * @enum {string}
             */
            channel: "mention" | "dm";
            /** @description The text as the author wrote it, links as they typed them (see `links`) and without the link X adds for media (see `attachments`); for an edited post, the newest version's. Empty once the author deleted it (see `redacted`). */
            text: string;
            /** @description Who wrote the message. */
            author: {
                /** @description The author's numeric X user id, as a string. */
                xUserId: string;
                /** @description The author's X handle, without @. */
                username: string;
                /** @description The author's display name on X (absent on messages stored before names were kept). A placeholder naming their X id while `unresolved`. */
                name?: string;
                /** @description True when the bridge could not look the author up yet: see the ticket customer's `unresolved`. */
                unresolved?: boolean;
                /** @description True when X says the author's account does not exist (deleted or suspended): `name` is a placeholder for good. */
                notFound?: boolean;
            } & {
                [key: string]: unknown;
            };
            /** @description The photos, videos and GIFs on the message, in the order the author added them; empty when none or redacted. */
            attachments: components["schemas"]["Attachment"][];
            /** @description The links in the text, in order; empty when none or redacted. */
            links: components["schemas"]["Link"][];
            /** @description For a quote post: the post it quotes (only its `xId` once the message is redacted). */
            quoted?: components["schemas"]["QuotedPost"];
            /** @description For a post the author edited on X: every version's X id, oldest first (`xId` is the first). `text`, `links` and `attachments` are the newest version's. */
            editHistory?: string[];
            /**
             * Format: date-time
             * @description When the message was written on X.
             */
            createdAt: string;
            /** @description The X post this post replies to, when it is a reply. */
            inReplyToXId?: string;
            /** @description True once the author deleted it on X: the text is gone, ids and times stay. */
            redacted: boolean;
            /** @description For an outbound message the bridge posted: the reply it was posted for. */
            replyId?: string;
            /**
             * @description How a `dm` message came: `xchat` for an XChat message (X's end-to-end encrypted DMs; its `xId` is the message's UUID). Absent for posts and for DMs of X's DM API.
             * @enum {string}
             */
            transport?: "xchat";
            /** @description True when an XChat message arrived that the bridge could not decrypt (XChat not set up, keys unavailable, unknown key version or a signature that did not verify): `text` is empty, `notice` says what happened and what to do. Absent otherwise. */
            encrypted?: boolean;
            /** @description For an `encrypted` message: a sentence for the agent saying an encrypted message arrived and what to do. */
            notice?: string;
        } & {
            [key: string]: unknown;
        };
        /**
         * Reply error
         * @description Why a reply could not be posted.
         */
        ReplyError: {
            /** @description A stable machine-readable reason, for example `duplicate_content` or `not_summoned`. */
            code: string;
            /** @description What happened and what the agent can do about it, in plain words. */
            message: string;
        } & {
            [key: string]: unknown;
        };
        /**
         * Reply
         * @description A reply posted (or to be posted) through the brand account.
         */
        Reply: {
            /** @description The reply id the bridge returned when the reply was requested. */
            id: string;
            /** @description The ticket the reply belongs to. */
            ticketId: string;
            /**
             * @description queued, posting, posted (on X, see `xId`) or failed (see `error`).
             * @enum {string}
             */
            status: "queued" | "posting" | "posted" | "failed";
            /** @description The reply text as requested. */
            text: string;
            /** @description The post or DM event id on X once posted; for a thread, its first part's. */
            xId?: string;
            /** @description A thread (`split: true`): the posts in order, each numbered `i/n` and at most 280 weighted characters. */
            parts?: string[];
            /** @description A thread: the X ids of its parts posted, in order (every part once `posted`; those X took before refusing one when `failed`). */
            xIds?: string[];
            /** @description What X bills for the reply, in US dollars, estimated at X's published prices when it was requested: counted toward the month's X_MONTHLY_SPEND_CAP_USD when it is posted. */
            cost?: number;
            error?: components["schemas"]["ReplyError"];
            /** @description The message the reply answers, when the helpdesk named one. */
            inReplyToMessageId?: string;
            /**
             * Format: date-time
             * @description When the helpdesk requested the reply.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When the reply last changed status.
             */
            updatedAt: string;
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.created
         * @description A customer wrote and a new ticket was opened. `data.message` is the first message.
         */
        TicketCreatedEvent: {
            /** @constant */
            type: "ticket.created";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                message: components["schemas"]["Message"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.message_added
         * @description A message joined an existing ticket: from the customer, or posted by hand from the brand account in its thread.
         */
        TicketMessageAddedEvent: {
            /** @constant */
            type: "ticket.message_added";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                message: components["schemas"]["Message"];
                /**
                 * @description Set when the message changed the ticket's status (a customer answering a pending ticket reopens it).
                 * @enum {string}
                 */
                previousStatus?: "open" | "pending" | "solved";
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.reopened
         * @description The customer followed up on a solved ticket within the reopen window; `data.message` is the follow-up.
         */
        TicketReopenedEvent: {
            /** @constant */
            type: "ticket.reopened";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                message: components["schemas"]["Message"];
                /**
                 * @description The status before the follow-up (solved).
                 * @enum {string}
                 */
                previousStatus?: "open" | "pending" | "solved";
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.status_changed
         * @description The ticket's status was set (through the helpdesk API); `data.ticket.status` is the new one.
         */
        TicketStatusChangedEvent: {
            /** @constant */
            type: "ticket.status_changed";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                /**
                 * @description The status before this change.
                 * @enum {string}
                 */
                previousStatus: "open" | "pending" | "solved";
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.reply_posted
         * @description A reply was posted on X; `data.reply.xId` is its id there.
         */
        TicketReplyPostedEvent: {
            /** @constant */
            type: "ticket.reply_posted";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                reply: components["schemas"]["Reply"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.reply_failed
         * @description X refused a reply for good; `data.reply.error` says why and what an agent can do. The bridge will not retry it.
         */
        TicketReplyFailedEvent: {
            /** @constant */
            type: "ticket.reply_failed";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                /** @description The refused reply; `error` is always set. */
                reply: {
                    /** @description The reply id the bridge returned when the reply was requested. */
                    id: string;
                    /** @description The ticket the reply belongs to. */
                    ticketId: string;
                    /**
                     * @description queued, posting, posted (on X, see `xId`) or failed (see `error`).
                     * @enum {string}
                     */
                    status: "queued" | "posting" | "posted" | "failed";
                    /** @description The reply text as requested. */
                    text: string;
                    /** @description The post or DM event id on X once posted; for a thread, its first part's. */
                    xId?: string;
                    /** @description A thread (`split: true`): the posts in order, each numbered `i/n` and at most 280 weighted characters. */
                    parts?: string[];
                    /** @description A thread: the X ids of its parts posted, in order (every part once `posted`; those X took before refusing one when `failed`). */
                    xIds?: string[];
                    /** @description What X bills for the reply, in US dollars, estimated at X's published prices when it was requested: counted toward the month's X_MONTHLY_SPEND_CAP_USD when it is posted. */
                    cost?: number;
                    error: components["schemas"]["ReplyError"];
                    /** @description The message the reply answers, when the helpdesk named one. */
                    inReplyToMessageId?: string;
                    /**
                     * Format: date-time
                     * @description When the helpdesk requested the reply.
                     */
                    createdAt: string;
                    /**
                     * Format: date-time
                     * @description When the reply last changed status.
                     */
                    updatedAt: string;
                } & {
                    [key: string]: unknown;
                };
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.message_redacted
         * @description The author deleted a message on X; its text is gone from the bridge. Remove it from your copy too.
         */
        TicketMessageRedactedEvent: {
            /** @constant */
            type: "ticket.message_redacted";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                message: components["schemas"]["Message"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * ticket.message_edited
         * @description The author edited a post on X: `data.message.text` is the newest version and `data.message.editHistory` lists every version's X id, oldest first. `data.message.id` stays the first version's: replace your copy's text.
         */
        TicketMessageEditedEvent: {
            /** @constant */
            type: "ticket.message_edited";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                ticket: components["schemas"]["Ticket"];
                message: components["schemas"]["Message"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * Ticket event
         * @description A change to a ticket, POSTed to HELPDESK_WEBHOOK_URL and signed per Standard Webhooks. Delivery is at least once: the `webhook-id` header is the same on every retry, so dedupe on it, and order by `data.ticket.sequence`.
         */
        TicketEvent: components["schemas"]["TicketCreatedEvent"] | components["schemas"]["TicketMessageAddedEvent"] | components["schemas"]["TicketReopenedEvent"] | components["schemas"]["TicketStatusChangedEvent"] | components["schemas"]["TicketReplyPostedEvent"] | components["schemas"]["TicketReplyFailedEvent"] | components["schemas"]["TicketMessageRedactedEvent"] | components["schemas"]["TicketMessageEditedEvent"];
        /**
         * Channel
         * @description The health of the brand's X channel: whether customers' messages arrive and replies go out.
         */
        Channel: {
            /** @description The brand slug of the bridge that sent the event. */
            brand: string;
            /**
             * @description ok: customers' posts and DMs arrive and replies go out. degraded: they do, but something is limited (see `reason`). down: nothing arrives from X and no reply can be posted until a person acts (see `detail`).
             * @enum {string}
             */
            status: "ok" | "degraded" | "down";
            /** @description A stable code for the cause: `app_revoked` (the brand account withdrew the app's access on X; down), `credentials_refused` (X refuses the account's token; down), `credits_depleted` (the app's X credits are spent; down), `usage_capped` (the app reached its monthly X usage cap; down), `read_budget_spent` (the day's X read budget is spent: new customers show unresolved until the next UTC day; degraded), `webhook_missing_items` (X's webhook missed mentions that reconciliation then read late; degraded), `xchat_unreadable` (XChat messages arrive that the bridge cannot decrypt: their messages are `encrypted`; degraded), `recovered` (back to ok). More codes may be added: treat an unknown one by its `status`. */
            reason: string;
            /** @description What happened and what a person can do about it, in plain words. */
            detail: string;
            /**
             * @description The status before this change (absent on the channel's first change, which was from ok).
             * @enum {string}
             */
            previousStatus?: "ok" | "degraded" | "down";
            /** @description Grows with every change to the channel. Retries can deliver events out of order: apply an event only when its sequence is higher than the last channel event you applied. */
            sequence: number;
        } & {
            [key: string]: unknown;
        };
        /**
         * channel.health_changed
         * @description The brand's X channel changed status: `data.channel.status` is the new one, `reason` a stable code and `detail` what to do. Sent once per change (the same status is never announced twice in a row), and again with status ok when the condition clears. Signed and retried like ticket events; order by `data.channel.sequence`.
         */
        ChannelHealthChangedEvent: {
            /** @constant */
            type: "channel.health_changed";
            /**
             * Format: date-time
             * @description When the change happened. Stays the same on every retry; the `webhook-timestamp` header is the time of the attempt.
             */
            timestamp: string;
            data: {
                channel: components["schemas"]["Channel"];
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * Reply request
         * @description A reply to post through the brand account.
         */
        ReplyRequest: {
            /** @description The reply, posted as is (no handle is prepended). Posts: at most 280 weighted characters as X counts them; DMs: 10,000 characters. */
            text: string;
            /** @description Mention tickets: the message to reply under. Default: the latest customer post that mentioned, replied to or quoted the brand. */
            inReplyToMessageId?: string;
            /** @description Mention tickets: `true` posts a text over 280 weighted characters as a thread (at most 25 parts), cut between words, each part numbered `1/3` and at most 280 with its number, each under the one before. Without it such a text is 422 too_long, with the number of `parts` it would take. */
            split?: boolean;
            /**
             * @description Mention tickets: `dm` appends X's link that opens a DM with the brand account (x.com/messages/compose), on a line of its own; it counts 23 toward the 280 like any link.
             * @enum {string}
             */
            handoff?: "dm";
            /** @description Files posted with the reply, each fetched by the bridge from its https `url` (JPEG, PNG, WEBP, GIF or MP4, typed by its bytes; no private address) and uploaded to X with `altText` (at most 1,000 characters). As X allows: up to 4 photos, or 1 GIF or video, on a post (a thread's first part); one on a DM. Refused 422 too_many_attachments, attachment_not_allowed or alt_text_too_long, naming the field. */
            attachments?: {
                url: string;
                altText?: string;
            }[];
        };
        /**
         * Status change
         * @description Sets a ticket's status; emits ticket.status_changed.
         */
        StatusChange: {
            /**
             * @description The new status.
             * @enum {string}
             */
            status: "open" | "pending" | "solved";
        };
        /**
         * Error
         * @description An error answer.
         */
        Error: {
            error: {
                /** @description bad_request, unauthorized, not_found, conflict, payload_too_large, unprocessable, unavailable, internal; a reply X would refuse is 422 with what to change: too_long, too_many_cashtags, not_summoned, target_deleted */
                code: string;
                /** @description What went wrong, for a person. */
                message: string;
                /** @description The request field at fault, when there is one. */
                field?: string;
                /** @description On 422 for a post: the text's length as X counts it. */
                weightedLength?: number;
                /** @description On 422: the most X accepts. */
                max?: number;
                /** @description On 422 too_many_cashtags: how many cashtags the text has (X takes one per post). */
                cashtags?: number;
            } & {
                [key: string]: unknown;
            };
        };
        /**
         * Ticket page
         * @description Tickets, newest first.
         */
        TicketPage: {
            tickets: components["schemas"]["Ticket"][];
            /** @description Pass as `cursor` for the next page; null on the last page. */
            nextCursor: string | null;
        };
        /**
         * Ticket view
         * @description A ticket with its messages and replies.
         */
        TicketView: {
            ticket: components["schemas"]["Ticket"];
            /** @description Oldest first. */
            messages: components["schemas"]["Message"][];
            /** @description Oldest first. */
            replies: components["schemas"]["Reply"][];
        };
        /**
         * Ticket result
         * @description The ticket after the change.
         */
        TicketResult: {
            ticket: components["schemas"]["Ticket"];
        };
        /**
         * Reply accepted
         * @description The recorded reply; watch for ticket.reply_posted or ticket.reply_failed.
         */
        ReplyAccepted: {
            reply: components["schemas"]["Reply"];
        };
        /**
         * Attachment link
         * @description Where the stored file is, for clients that do not follow the redirect.
         */
        AttachmentLink: {
            /** @description A short-lived link to the file; the `Location` of this answer. */
            url: string;
            /**
             * Format: date-time
             * @description When the link stops working (at most an hour from now); ask again for a fresh one.
             */
            expiresAt: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Throttled by the HTTP API (on AWS): try again after a pause. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    listTickets: {
        parameters: {
            query?: {
                status?: "open" | "pending" | "solved";
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of tickets. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TicketPage"];
                };
            };
            /** @description Bad query parameter. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Throttled by the HTTP API (on AWS): try again after a pause. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getTicket: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The ticket. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TicketView"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such ticket. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Throttled by the HTTP API (on AWS): try again after a pause. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    setTicketStatus: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["StatusChange"];
            };
        };
        responses: {
            /** @description The ticket after the change (unchanged when it already had that status). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TicketResult"];
                };
            };
            /** @description Bad body; `field` names the field. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such ticket. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Throttled by the HTTP API (on AWS): try again after a pause. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    getAttachmentLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: string;
                /** @description An attachment's `id` (`att-<X media key>`), as in a message's `attachments`. */
                attachmentId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The `Location` header is the link; the body repeats it with its expiry. */
            302: {
                headers: {
                    /** @description A short-lived link to the file. */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AttachmentLink"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such ticket or attachment, the message was deleted on X (its copies with it), or the bridge holds no copy (see the attachment's `error`, or open its `url`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Throttled by the HTTP API (on AWS): try again after a pause. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The bridge failed (5xx, `internal`). */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createReply: {
        parameters: {
            query?: never;
            header?: {
                /** @description The same key again returns the same reply and posts nothing new. Strongly recommended. */
                "Idempotency-Key"?: string;
            };
            path: {
                ticketId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReplyRequest"];
            };
        };
        responses: {
            /** @description Recorded and queued; the outcome arrives as ticket.reply_posted or ticket.reply_failed. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReplyAccepted"];
                };
            };
            /** @description Bad body; `field` names the field. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such ticket. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The Idempotency-Key was used for a different reply. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Body over 64 KiB. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Text too long for X; `weightedLength` (posts) or `length` (DMs) is the measured length. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Throttled by the HTTP API (on AWS): try again after a pause. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    ticketEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of this event: deduplicate on it. */
                "webhook-id": string;
                /** @description When this attempt was sent, in Unix seconds. */
                "webhook-timestamp": string;
                /** @description v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated during a secret rotation. */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TicketEvent"];
            };
        };
        responses: {
            /** @description Received: the event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: retried with backoff for about a day, then kept in the dead-letter queue. */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    channelHealthChanged: {
        parameters: {
            query?: never;
            header: {
                /** @description The same on every retry of this event: deduplicate on it. */
                "webhook-id": string;
                /** @description When this attempt was sent, in Unix seconds. */
                "webhook-timestamp": string;
                /** @description v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated during a secret rotation. */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ChannelHealthChangedEvent"];
            };
        };
        responses: {
            /** @description Received: the event is not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: retried with backoff for about a day, then kept in the dead-letter queue. */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
